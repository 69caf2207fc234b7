//! Offline GraphiQL IDE: the HTML page and the bundled scripts and styles it loads.
//!
//! `GET /graphql` with `Accept: text/html` should answer with [`page`]; the page pulls
//! GraphiQL 3.9.0 and React 18.3.1 from fundi itself, so the IDE needs no CDN and keeps
//! working offline. The assets are compiled into the binary and served by [`asset`], mounted
//! at [`ASSET_ROUTE`] (`/graphiql/{file}`, axum 0.8 path syntax):
//!
//! ```text
//! GET /graphql          (Accept: text/html)  -> page("/graphql", "/graphql")
//! GET /graphiql/{file}                       -> asset
//! ```
//!
//! Asset file names carry the upstream version, which is what makes the one-year `immutable`
//! caching safe: upgrading a bundled library means shipping it under a new name and updating
//! both `assets/graphiql/index.html` and the file table in this module. The upstream license
//! texts live next to the files in `assets/graphiql/`.
//!
//! Authentication in the IDE: the Headers tab starts as `{"Authorization": "Bearer "}`, and a
//! token box above the editor stores a token in the browser (`localStorage` key `fundi.token`).
//! A token typed into the Headers tab wins; otherwise the stored token is sent as
//! `Authorization: Bearer <token>` on HTTP requests and as the `Authorization` and
//! `authorization` keys of the `connection_init` payload for subscriptions over WebSocket
//! (`graphql-transport-ws` protocol).

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

/// Route at which [`asset`] must be mounted (axum 0.8 path syntax).
pub const ASSET_ROUTE: &str = "/graphiql/{file}";

const TEMPLATE: &str = include_str!("../../assets/graphiql/index.html");

const JAVASCRIPT: &str = "application/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const SVG: &str = "image/svg+xml";
const CACHE_CONTROL: &str = "public, max-age=31536000, immutable";

/// Renders the GraphiQL page for the given HTTP endpoint and WebSocket endpoint.
///
/// Both values are usually absolute paths (`/graphql` for both); the page resolves them
/// against the current location and turns the WebSocket path into a `ws://` or `wss://` URL
/// matching the page's scheme. A full `ws://` or `wss://` URL is used as given. Values are
/// HTML-escaped before being placed in the page.
pub fn page(endpoint: &str, ws_endpoint: &str) -> Html<String> {
    Html(render(TEMPLATE, endpoint, ws_endpoint))
}

/// Serves one bundled GraphiQL file by name; unknown names get `404 Not Found`.
///
/// Only the fixed set of compiled-in files can be returned, so there is no filesystem access
/// and no way to reach anything else through the path.
pub async fn asset(Path(file): Path<String>) -> Response {
    match lookup(&file) {
        Some((content_type, body)) => (
            [
                (header::CONTENT_TYPE, content_type),
                (header::CACHE_CONTROL, CACHE_CONTROL),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            ],
            body,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// Content type and contents of a bundled file.
fn lookup(file: &str) -> Option<(&'static str, &'static [u8])> {
    match file {
        "graphiql-3.9.0.min.js" => Some((
            JAVASCRIPT,
            include_bytes!("../../assets/graphiql/graphiql-3.9.0.min.js").as_slice(),
        )),
        "graphiql-3.9.0.min.css" => Some((
            CSS,
            include_bytes!("../../assets/graphiql/graphiql-3.9.0.min.css").as_slice(),
        )),
        "react-18.3.1.production.min.js" => Some((
            JAVASCRIPT,
            include_bytes!("../../assets/graphiql/react-18.3.1.production.min.js").as_slice(),
        )),
        "react-dom-18.3.1.production.min.js" => Some((
            JAVASCRIPT,
            include_bytes!("../../assets/graphiql/react-dom-18.3.1.production.min.js").as_slice(),
        )),
        "fundi-icon-1.svg" => Some((
            SVG,
            include_bytes!("../../assets/graphiql/fundi-icon-1.svg").as_slice(),
        )),
        _ => None,
    }
}

/// Fills `{{endpoint}}` and `{{ws_endpoint}}` in a single pass, so placeholder-looking text
/// inside the substituted values is never expanded again.
fn render(template: &str, endpoint: &str, ws_endpoint: &str) -> String {
    const ENDPOINT: &str = "{{endpoint}}";
    const WS_ENDPOINT: &str = "{{ws_endpoint}}";

    let mut out = String::with_capacity(template.len() + 2 * (endpoint.len() + ws_endpoint.len()));
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let tail = &rest[start..];
        if let Some(after) = tail.strip_prefix(ENDPOINT) {
            out.push_str(&escape_html(endpoint));
            rest = after;
        } else if let Some(after) = tail.strip_prefix(WS_ENDPOINT) {
            out.push_str(&escape_html(ws_endpoint));
            rest = after;
        } else {
            out.push_str("{{");
            rest = &tail[2..];
        }
    }
    out.push_str(rest);
    out
}

/// Escapes text for use in HTML element content and quoted attribute values.
fn escape_html(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values of every `src="..."` and `href="..."` attribute in the page.
    fn referenced_urls(html: &str) -> Vec<String> {
        let mut found = Vec::new();
        for attr in ["src=\"", "href=\""] {
            let mut rest = html;
            while let Some(i) = rest.find(attr) {
                rest = &rest[i + attr.len()..];
                let end = rest.find('"').expect("unterminated attribute value");
                found.push(rest[..end].to_owned());
                rest = &rest[end..];
            }
        }
        found
    }

    #[test]
    fn page_contains_endpoints() {
        let html = page("/graphql", "/graphql").0;
        assert!(html.contains(r#"data-endpoint="/graphql""#));
        assert!(html.contains(r#"data-ws-endpoint="/graphql""#));
        assert!(!html.contains("{{endpoint}}"));
        assert!(!html.contains("{{ws_endpoint}}"));
    }

    #[test]
    fn page_uses_no_cdn() {
        let html = page("/graphql", "/graphql").0;
        let lower = html.to_ascii_lowercase();
        for cdn in ["unpkg", "jsdelivr", "cdnjs", "esm.sh", "googleapis"] {
            assert!(!lower.contains(cdn), "page mentions {cdn}");
        }
        assert!(!lower.contains("http://"), "page contains an http:// URL");
        assert!(!lower.contains("https://"), "page contains an https:// URL");

        let urls = referenced_urls(&html);
        assert!(
            urls.len() >= 4,
            "expected three scripts and a stylesheet, got {urls:?}"
        );
        for url in &urls {
            assert!(
                url.starts_with("/graphiql/"),
                "{url} is not served by fundi"
            );
        }
    }

    #[test]
    fn endpoints_are_html_escaped() {
        let html = page("/graphql?a=1&b=\"x\"<script>'", "/ws\"><img src=x>").0;
        assert!(
            html.contains(
                r#"data-endpoint="/graphql?a=1&amp;b=&quot;x&quot;&lt;script&gt;&#x27;""#
            )
        );
        assert!(html.contains(r#"data-ws-endpoint="/ws&quot;&gt;&lt;img src=x&gt;""#));
        assert!(!html.contains("<img src=x>"));
        assert!(!html.contains("\"<script>"));
    }

    #[test]
    fn placeholders_inside_values_are_not_expanded() {
        let html = page("{{ws_endpoint}}", "/ws").0;
        assert!(html.contains(r#"data-endpoint="{{ws_endpoint}}""#));
        assert!(html.contains(r#"data-ws-endpoint="/ws""#));
    }

    #[test]
    fn escape_html_covers_special_characters() {
        assert_eq!(
            escape_html(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#x27;&amp;&#x27;&lt;/a&gt;"
        );
        assert_eq!(escape_html("/graphql/ws"), "/graphql/ws");
    }

    #[tokio::test]
    async fn every_referenced_asset_is_served() {
        let html = page("/graphql", "/graphql").0;
        for url in referenced_urls(&html) {
            let name = url.strip_prefix("/graphiql/").expect("asset path");
            let response = asset(Path(name.to_owned())).await;
            assert_eq!(response.status(), StatusCode::OK, "{url}");

            let expected_type = if name.ends_with(".css") {
                CSS
            } else if name.ends_with(".svg") {
                SVG
            } else {
                JAVASCRIPT
            };
            let headers = response.headers();
            assert_eq!(headers[header::CONTENT_TYPE], expected_type, "{url}");
            assert_eq!(headers[header::CACHE_CONTROL], CACHE_CONTROL, "{url}");
            assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff", "{url}");

            let body = axum::body::to_bytes(response.into_body(), usize::MAX)
                .await
                .expect("asset body");
            let complete = if name.ends_with(".svg") {
                body.ends_with(b"</svg>\n")
            } else {
                body.len() > 1000
            };
            assert!(complete, "{url} looks truncated");
        }
    }

    #[tokio::test]
    async fn unknown_asset_is_not_found() {
        for name in [
            "",
            "index.html",
            "graphiql.LICENSE",
            "graphiql.min.js",
            "GRAPHIQL-3.9.0.MIN.JS",
            "../Cargo.toml",
            "..%2FCargo.toml",
            "/etc/passwd",
            "graphiql-3.9.0.min.js.map",
        ] {
            let response = asset(Path(name.to_owned())).await;
            assert_eq!(response.status(), StatusCode::NOT_FOUND, "{name:?}");
        }
    }
}
