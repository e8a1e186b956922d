//! TLS and mutual TLS over a real socket, with certificates made here: with
//! a client CA configured, a client presenting a certificate from that CA is
//! served, and one with no certificate, a certificate from another CA, or no
//! TLS at all is refused; without a client CA any TLS client is served.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::net::SocketAddr;
use std::time::Duration;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};
use refund_eligibility::pb;
use refund_eligibility::pb::eligibility_service_client::EligibilityServiceClient;
use refund_eligibility::server::{self, ServerConfig, TlsConfig};
use tonic::transport::{Certificate, ClientTlsConfig, Endpoint, Identity};

struct Ca {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

struct Leaf {
    cert_pem: String,
    key_pem: String,
}

impl Ca {
    fn new(name: &str) -> Ca {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        Ca {
            issuer: CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap(),
        }
    }

    fn pem(&self) -> String {
        self.issuer.pem()
    }

    fn leaf(&self, name: &str, usage: ExtendedKeyUsagePurpose) -> Leaf {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(vec![name.to_owned()]).unwrap();
        params.distinguished_name.push(DnType::CommonName, name);
        params.extended_key_usages = vec![usage];
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        Leaf {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        }
    }
}

struct Running {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    handle: tokio::task::JoinHandle<Result<(), server::ServeError>>,
}

impl Running {
    async fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        tokio::time::timeout(Duration::from_secs(10), self.handle)
            .await
            .expect("server drains")
            .unwrap()
            .unwrap();
    }
}

async fn start(tls: TlsConfig) -> Running {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let config = ServerConfig {
        tls: Some(tls),
        shutdown_grace: Duration::from_secs(2),
        ..ServerConfig::default()
    };
    let handle = tokio::spawn(server::run(
        listener,
        async move {
            let _ = rx.await;
        },
        config,
    ));
    Running {
        addr,
        stop: Some(tx),
        handle,
    }
}

fn list_request() -> pb::ListPoliciesRequest {
    pb::ListPoliciesRequest { locale: "en".into() }
}

/// Connects and makes one call; `Err` if either the handshake or the call fails.
async fn call(addr: SocketAddr, scheme: &str, tls: Option<ClientTlsConfig>) -> Result<usize, String> {
    let mut endpoint = Endpoint::from_shared(format!("{scheme}://localhost:{}", addr.port()))
        .unwrap()
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(5));
    if let Some(tls) = tls {
        endpoint = endpoint.tls_config(tls).map_err(|e| format!("client config: {e}"))?;
    }
    let channel = endpoint.connect().await.map_err(|e| format!("connect: {e:?}"))?;
    let response = EligibilityServiceClient::new(channel)
        .list_policies(list_request())
        .await
        .map_err(|status| format!("call: {status:?}"))?;
    Ok(response.into_inner().policies.len())
}

fn client_tls(ca: &Ca, identity: Option<&Leaf>) -> ClientTlsConfig {
    let config = ClientTlsConfig::new()
        .domain_name("localhost")
        .ca_certificate(Certificate::from_pem(ca.pem()));
    match identity {
        Some(leaf) => config.identity(Identity::from_pem(&leaf.cert_pem, &leaf.key_pem)),
        None => config,
    }
}

fn server_tls(ca: &Ca, client_ca: Option<&Ca>) -> TlsConfig {
    let leaf = ca.leaf("localhost", ExtendedKeyUsagePurpose::ServerAuth);
    TlsConfig {
        cert_pem: leaf.cert_pem.into_bytes(),
        key_pem: leaf.key_pem.into_bytes(),
        client_ca_pem: client_ca.map(|c| c.pem().into_bytes()),
    }
}

#[tokio::test]
async fn mutual_tls_serves_only_clients_with_a_certificate_from_the_ca() {
    let ca = Ca::new("refund-eligibility test CA");
    let server = start(server_tls(&ca, Some(&ca))).await;
    let policies = refund_eligibility::policies::PolicyId::ALL.len();

    let client = ca.leaf("billing", ExtendedKeyUsagePurpose::ClientAuth);
    assert_eq!(
        call(server.addr, "https", Some(client_tls(&ca, Some(&client)))).await,
        Ok(policies),
        "a client with a certificate from the CA is served"
    );

    let refused = call(server.addr, "https", Some(client_tls(&ca, None))).await;
    assert!(
        refused.is_err(),
        "a client without a certificate was served: {refused:?}"
    );

    let reason = refused.unwrap_err();
    assert!(
        reason.contains("CertificateRequired"),
        "refused for another reason: {reason}"
    );
    let rogue_ca = Ca::new("someone else's CA");
    let rogue = rogue_ca.leaf("billing", ExtendedKeyUsagePurpose::ClientAuth);
    let refused = call(server.addr, "https", Some(client_tls(&ca, Some(&rogue)))).await;
    assert!(
        refused.is_err(),
        "a client certificate from another CA was accepted: {refused:?}"
    );
    let reason = refused.unwrap_err();
    assert!(reason.contains("UnknownCA"), "refused for another reason: {reason}");

    let refused = call(server.addr, "http", None).await;
    assert!(refused.is_err(), "a plaintext client was served: {refused:?}");

    // The refusals did not hurt the server: the good client is still served.
    assert_eq!(
        call(server.addr, "https", Some(client_tls(&ca, Some(&client)))).await,
        Ok(policies)
    );
    server.stop().await;
}

#[tokio::test]
async fn tls_without_a_client_ca_serves_any_tls_client() {
    let ca = Ca::new("refund-eligibility test CA");
    let server = start(server_tls(&ca, None)).await;
    let policies = refund_eligibility::policies::PolicyId::ALL.len();
    assert_eq!(
        call(server.addr, "https", Some(client_tls(&ca, None))).await,
        Ok(policies)
    );

    // The client checks the server: a client trusting another CA refuses it.
    let other = Ca::new("another CA");
    let refused = call(server.addr, "https", Some(client_tls(&other, None))).await;
    assert!(refused.is_err(), "{refused:?}");
    server.stop().await;
}

#[tokio::test]
async fn a_bad_key_fails_at_startup_not_at_the_first_call() {
    let ca = Ca::new("refund-eligibility test CA");
    let mut tls = server_tls(&ca, None);
    tls.key_pem = b"-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n".to_vec();
    let server = start(tls).await;
    let result = tokio::time::timeout(Duration::from_secs(5), server.handle)
        .await
        .expect("run returns at once")
        .unwrap();
    assert!(result.is_err(), "a server with an unusable key started");
}
