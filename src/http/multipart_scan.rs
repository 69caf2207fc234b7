//! A first pass over a GraphQL multipart body that counts its parts and file uses before any file is stored.
//!
//! async-graphql writes every file part to its own temporary file and only then looks at the map, so a
//! body of thousands of tiny parts would open thousands of files. The body is already in memory and
//! bounded, so reading it once more with the same parser (multer) and counting is cheap and opens nothing.

use axum::body::Bytes;
use std::collections::HashMap;

/// Why a multipart body was refused before parsing it for real.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// More file parts, other parts, or places a file is used than one request may carry.
    TooMany(String),
    /// The body is not a multipart request this server can read.
    Malformed(String),
}

/// Reads the parts' headers (and the small `map` part) and refuses a body that would make the real
/// parser hold more than `max_files` files. Each path in the map counts, because every use of a file
/// becomes its own open handle.
pub async fn check(content_type: &str, body: &Bytes, max_files: usize) -> Result<(), Refusal> {
    let boundary =
        multer::parse_boundary(content_type).map_err(|e| Refusal::Malformed(e.to_string()))?;
    let stream = futures_util::stream::once({
        let body = body.clone();
        async move { Ok::<_, std::convert::Infallible>(body) }
    });
    let mut multipart = multer::Multipart::new(stream, boundary);
    // operations and map, plus the files.
    let max_parts = max_files + 2;
    let (mut parts, mut files) = (0usize, 0usize);
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| Refusal::Malformed(e.to_string()))?
    {
        parts += 1;
        if parts > max_parts {
            return Err(Refusal::TooMany(format!(
                "at most {max_parts} parts (operations, map and {max_files} files) per request"
            )));
        }
        if field.name() == Some("map") {
            let bytes = field
                .bytes()
                .await
                .map_err(|e| Refusal::Malformed(e.to_string()))?;
            let map: HashMap<String, Vec<String>> = serde_json::from_slice(&bytes)
                .map_err(|e| Refusal::Malformed(format!("the map is not valid: {e}")))?;
            let uses: usize = map.values().map(Vec::len).sum();
            if uses > max_files {
                return Err(Refusal::TooMany(format!(
                    "the map uses files in {uses} places; at most {max_files} per request"
                )));
            }
        } else if field.file_name().is_some() {
            files += 1;
            if files > max_files {
                return Err(Refusal::TooMany(format!(
                    "at most {max_files} files per request"
                )));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONTENT_TYPE: &str = "multipart/form-data; boundary=XX";

    /// A part: its name, its file name if it is a file, and its content.
    type PartSpec<'a> = (&'a str, Option<&'a str>, &'a str);

    fn body(parts: &[PartSpec]) -> Bytes {
        let mut text = String::new();
        for (name, file, content) in parts {
            text.push_str("--XX\r\n");
            match file {
                Some(file) => text.push_str(&format!(
                    "Content-Disposition: form-data; name=\"{name}\"; filename=\"{file}\"\r\n\r\n"
                )),
                None => text.push_str(&format!(
                    "Content-Disposition: form-data; name=\"{name}\"\r\n\r\n"
                )),
            }
            text.push_str(content);
            text.push_str("\r\n");
        }
        text.push_str("--XX--\r\n");
        Bytes::from(text)
    }

    fn verdict(parts: &[PartSpec]) -> Result<(), Refusal> {
        let body = body(parts);
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(check(CONTENT_TYPE, &body, 2))
    }

    #[test]
    fn counts_files_parts_and_map_uses() {
        let ops = ("operations", None, "{}");
        let map2 = ("map", None, r#"{"0":["variables.a"],"1":["variables.b"]}"#);
        let map3 = (
            "map",
            None,
            r#"{"0":["variables.a","variables.b","variables.c"]}"#,
        );
        let f0 = ("0", Some("a.jpg"), "x");
        let f1 = ("1", Some("b.jpg"), "x");
        let f2 = ("2", Some("c.jpg"), "x");
        let plain = ("note", None, "x");
        let cases: Vec<(Vec<PartSpec>, bool)> = vec![
            (vec![ops, map2, f0, f1], true),
            (vec![ops, map2, f0], true),
            (vec![ops, map2, f0, f1, f2], false),
            (vec![ops, map3, f0], false),
            (vec![ops, map2, f0, f1, plain], false),
        ];
        for (parts, accepted) in cases {
            let result = verdict(&parts);
            assert_eq!(result.is_ok(), accepted, "{parts:?}: {result:?}");
            if !accepted {
                assert!(matches!(result, Err(Refusal::TooMany(_))), "{result:?}");
            }
        }
    }

    #[test]
    fn a_body_that_is_not_multipart_is_malformed() {
        let body = Bytes::from_static(b"not multipart at all");
        let result = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(check(CONTENT_TYPE, &body, 2));
        assert!(matches!(result, Err(Refusal::Malformed(_))), "{result:?}");
    }
}
