//! TLS and plain HTTP on one port: the SDK's default `https://<frontend host>` handshake URL works while the
//! Backend API stays on `http://` at the same address.

use mock_clerk::MockClerk;

#[tokio::test]
async fn one_port_answers_https_and_http() {
    let clerk = MockClerk::builder().tls(true).start().await;
    let pem = clerk.tls_cert_pem().expect("a certificate").to_owned();
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"));
    let https = format!("https://{}/.well-known/jwks.json", clerk.addr());
    // trusting exactly the certificate mock-clerk presents
    let cert = reqwest::Certificate::from_pem(pem.as_bytes()).unwrap();
    let client = reqwest::Client::builder().add_root_certificate(cert).build().unwrap();
    let jwks: serde_json::Value = client.get(&https).send().await.unwrap().json().await.unwrap();
    assert_eq!(jwks["keys"][0]["kid"], clerk.active_kid());

    let plain = reqwest::Client::new().get(format!("{}/v1/jwks", clerk.url())).bearer_auth(clerk.secret_key()).send().await.unwrap();
    assert_eq!(plain.status(), 200);
    assert!(clerk.env().iter().all(|(k, _)| k != "NEXT_PUBLIC_CLERK_PROXY_URL"), "TLS mode keeps the plain key");
}

#[tokio::test]
async fn an_untrusted_client_is_refused_by_tls_not_by_a_crash() {
    let clerk = MockClerk::builder().tls(true).start().await;
    let strict = reqwest::Client::new();
    assert!(strict.get(format!("https://{}/.well-known/jwks.json", clerk.addr())).send().await.is_err());
    // the server keeps serving afterwards
    let ok = reqwest::get(format!("{}/.well-known/jwks.json", clerk.url())).await.unwrap();
    assert_eq!(ok.status(), 200);
}
