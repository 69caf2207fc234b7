//! GraphiQL in a real browser: headless Chromium driven over WebDriver (chromedriver) opens the page,
//! runs its example, reads the Documentation Explorer and signs in through the page's form.

use crate::support::*;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// chromedriver on a free local port, stopped when dropped.
struct Driver {
    process: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

async fn driver() -> Driver {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let process = Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver is installed (apt-get install chromium chromium-driver)");
    // Owned at once, so the process is stopped however this function ends.
    let driver = Driver {
        process,
        url: format!("http://127.0.0.1:{port}"),
    };
    let status = format!("{}/status", driver.url);
    let http = reqwest::Client::new();
    for _ in 0..100 {
        if http.get(&status).send().await.is_ok() {
            return driver;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not start");
}

async fn browser(driver: &Driver) -> Client {
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": "/usr/bin/chromium",
            // A closed network: no background fetches, no first-run pages, no sandbox as root.
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--disable-quic", "--no-first-run", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync", "--window-size=1400,900"],
        }),
    );
    // chromedriver listens on loopback over plain HTTP: no TLS connector needed.
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(capabilities)
        .connect(&driver.url)
        .await
        .expect("a browser session")
}

/// The page's visible text once `needle` appears in it (at most ten seconds).
async fn wait_for_text(client: &Client, needle: &str) -> String {
    let mut text = String::new();
    for _ in 0..100 {
        text = client
            .find(Locator::Css("body"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if text.contains(needle) {
            return text;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{needle:?} never appeared; the page shows:\n{text}");
}

#[tokio::test]
#[ignore = "needs Chromium and chromedriver (.ci/run installs them): apt-get install chromium chromium-driver"]
async fn graphiql_opens_without_an_error_runs_its_example_lists_the_root_types_and_signs_in() {
    let s = TestServer::start().await;
    s.register("browser@example.com").await;
    let driver = driver().await;
    let client = browser(&driver).await;
    client.goto(&s.url("/graphql")).await.unwrap();
    client
        .wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::Css(".graphiql-execute-button"))
        .await
        .expect("GraphiQL renders");

    // The example needs no sign-in and answers at once.
    client
        .find(Locator::Css(".graphiql-execute-button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let page = wait_for_text(&client, "\"serviceCategories\"").await;
    assert!(!page.contains("\"errors\""), "{page}");

    // The schema loads, so the Documentation Explorer lists the root types.
    client
        .find(Locator::Css("[aria-label='Show Documentation Explorer']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let page = wait_for_text(&client, "SubscriptionRoot").await;
    assert!(
        page.contains("QueryRoot") && page.contains("MutationRoot"),
        "{page}"
    );
    assert!(!page.contains("Error fetching schema"), "{page}");

    // The sign-in form calls login and keeps the token for later requests.
    client
        .find(Locator::Id("fundi-email"))
        .await
        .unwrap()
        .send_keys("browser@example.com")
        .await
        .unwrap();
    client
        .find(Locator::Id("fundi-password"))
        .await
        .unwrap()
        .send_keys(PASSWORD)
        .await
        .unwrap();
    client
        .find(Locator::Id("fundi-signin-button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_text(&client, "Signed in as browser@example.com").await;
    let stored = client
        .execute(
            "return window.localStorage.getItem('fundi.refreshToken');",
            vec![],
        )
        .await
        .unwrap();
    assert!(stored.as_str().is_some_and(|t| !t.is_empty()), "{stored}");
    client.close().await.unwrap();
}
