//! `examples/tls_echo.rs` driven by `tokio-rustls` clients on Zokio, on every runtime
//! flavor, with certificates made here by `rcgen`: bytes echoed whole over TLS 1.2 and
//! 1.3 by many connections at once, a clean TLS close, and handshakes refused where
//! the client must not trust the server.

// Linux only, as the example's TLS crates are (see `server` in the example).
#![cfg(target_os = "linux")]

mod common;

#[path = "../examples/tls_echo.rs"]
#[allow(dead_code)]
mod tls_example;

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};
use tokio_rustls::rustls::{self, ClientConfig, ProtocolVersion, RootCertStore};
use tokio_rustls::TlsConnector;
use zokio::net::{TcpListener, TcpStream};

/// A certificate for `localhost` made here, written to PEM files and read back by the
/// example's `load_pem`; the example's server on an ephemeral port with it, running
/// until the runtime ends. Returns the address and the certificate to trust.
async fn start_example() -> (SocketAddr, CertificateDer<'static>) {
    let made = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let cert_path = common::temp_path("cert.pem");
    let key_path = common::temp_path("key.pem");
    std::fs::write(&cert_path, made.cert.pem()).unwrap();
    std::fs::write(&key_path, made.signing_key.serialize_pem()).unwrap();
    let identity = tls_example::load_pem(&cert_path, &key_path).unwrap();
    std::fs::remove_file(&cert_path).unwrap();
    std::fs::remove_file(&key_path).unwrap();
    assert_eq!(identity.chain, vec![made.cert.der().clone()]);

    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let acceptor = tls_example::acceptor(identity).unwrap();
    zokio::spawn(async move { tls_example::serve(listener, acceptor).await.unwrap() });
    (addr, made.cert.der().clone())
}

/// A client trusting `roots` only, speaking only `version` when one is given.
fn connector(roots: &[CertificateDer<'static>], version: Option<ProtocolVersion>) -> TlsConnector {
    let mut store = RootCertStore::empty();
    for root in roots {
        store.add(root.clone()).unwrap();
    }
    let builder = ClientConfig::builder_with_provider(tls_example::provider());
    let builder = match version {
        None => builder.with_safe_default_protocol_versions(),
        Some(ProtocolVersion::TLSv1_2) => {
            builder.with_protocol_versions(&[&rustls::version::TLS12])
        }
        Some(ProtocolVersion::TLSv1_3) => {
            builder.with_protocol_versions(&[&rustls::version::TLS13])
        }
        Some(other) => panic!("no such version here: {other:?}"),
    };
    let config = builder
        .unwrap()
        .with_root_certificates(store)
        .with_no_client_auth();
    TlsConnector::from(Arc::new(config))
}

/// A TLS session with the server at `addr`, asking for `name`.
async fn connect(
    connector: &TlsConnector,
    addr: SocketAddr,
    name: &str,
) -> io::Result<TlsStream<TcpStream>> {
    let tcp = TcpStream::connect(addr).await?;
    let name = ServerName::try_from(name.to_owned()).unwrap();
    connector.connect(name, tcp).await
}

/// The rustls error inside a failed handshake's `io::Error`.
fn rustls_error(err: &io::Error) -> Option<&rustls::Error> {
    err.get_ref()?.downcast_ref::<rustls::Error>()
}

/// `len` bytes that differ from connection to connection and along the way.
fn payload(seed: usize, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| ((i * 31 + seed * 7) % 256) as u8)
        .collect()
}

/// Send every message of `messages` on `tls` while reading the echo at the same time
/// (a large message would fill both ways' buffers otherwise), then close the sending
/// side and expect the server's TLS close: what came back must be exactly what went.
async fn echo_and_close(tls: TlsStream<TcpStream>, messages: Vec<Vec<u8>>) {
    let sent: Vec<u8> = messages.concat();
    let (mut reader, mut writer) = tokio::io::split(tls);
    let write = async move {
        for message in &messages {
            writer.write_all(message).await.unwrap();
            writer.flush().await.unwrap();
        }
        // A TLS close_notify, then the TCP write side closed.
        writer.shutdown().await.unwrap();
    };
    let read = async move {
        let mut back = Vec::new();
        // Ends with 0 only after the server's close_notify; an unclean end is an error.
        reader.read_to_end(&mut back).await.unwrap();
        back
    };
    let ((), back) = zokio::join!(write, read);
    assert_eq!(back.len(), sent.len(), "bytes echoed");
    assert!(back == sent, "the echoed bytes differ from those sent");
}

/// Twelve clients at once, each sending messages from one byte to 300 KB (many TLS
/// records, many partial reads and writes) and getting each byte back.
#[test]
fn many_clients_get_their_bytes_back() {
    common::on_every_flavor(|| async {
        let (addr, cert) = start_example().await;
        let connector = connector(&[cert], None);
        let clients: Vec<_> = (0..12)
            .map(|client| {
                let connector = connector.clone();
                zokio::spawn(async move {
                    let tls = connect(&connector, addr, "localhost").await.unwrap();
                    let messages = [1, 100, 16 * 1024 + 1, 300_000, 7]
                        .iter()
                        .enumerate()
                        .map(|(i, &len)| payload(client * 10 + i, len))
                        .collect();
                    echo_and_close(tls, messages).await;
                })
            })
            .collect();
        for client in clients {
            client.await.unwrap();
        }
    });
}

/// TLS 1.2 and TLS 1.3 are both served, and the session is the version asked for.
#[test]
fn tls12_and_tls13_both_echo() {
    common::on_every_flavor(|| async {
        let (addr, cert) = start_example().await;
        for version in [ProtocolVersion::TLSv1_2, ProtocolVersion::TLSv1_3] {
            let connector = connector(std::slice::from_ref(&cert), Some(version));
            let tls = connect(&connector, addr, "localhost").await.unwrap();
            assert_eq!(tls.get_ref().1.protocol_version(), Some(version));
            echo_and_close(tls, vec![b"hello over TLS".to_vec(), payload(1, 40_000)]).await;
        }
    });
}

/// A client that does not trust the certificate, or asks for a name it was not made
/// for, is refused in the handshake; the server goes on serving the others.
#[test]
fn untrusted_or_misnamed_certificates_are_refused() {
    common::on_every_flavor(|| async {
        let (addr, cert) = start_example().await;

        let (other, _) = tls_example::self_signed().unwrap();
        let err = connect(&connector(&other.chain, None), addr, "localhost")
            .await
            .expect_err("a handshake trusting another certificate succeeded");
        // Both certificates name the same subject, so rustls sees the issuer it
        // knows and finds the signature is not its.
        assert!(
            matches!(
                rustls_error(&err),
                Some(rustls::Error::InvalidCertificate(
                    rustls::CertificateError::BadSignature
                        | rustls::CertificateError::UnknownIssuer
                ))
            ),
            "error for a certificate signed by another key: {err}"
        );

        let err = connect(
            &connector(std::slice::from_ref(&cert), None),
            addr,
            "example.com",
        )
        .await
        .expect_err("a handshake for a name the certificate lacks succeeded");
        assert!(
            matches!(
                rustls_error(&err),
                Some(rustls::Error::InvalidCertificate(
                    rustls::CertificateError::NotValidForName
                        | rustls::CertificateError::NotValidForNameContext { .. }
                ))
            ),
            "error for a wrong name: {err}"
        );

        // A client that connects and leaves without a word.
        drop(TcpStream::connect(addr).await.unwrap());

        let tls = connect(&connector(&[cert], None), addr, "localhost")
            .await
            .unwrap();
        echo_and_close(tls, vec![b"still serving".to_vec()]).await;
    });
}

/// The example's own certificate (what it makes when run alone) is trusted through
/// the PEM it gives out, and serves like one read from files.
#[test]
fn the_examples_own_certificate_works() {
    common::on_every_flavor(|| async {
        let (identity, pem) = tls_example::self_signed().unwrap();
        let trusted = CertificateDer::from_pem_slice(pem.as_bytes()).unwrap();
        assert_eq!(identity.chain, vec![trusted.clone()]);
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let acceptor = tls_example::acceptor(identity).unwrap();
        zokio::spawn(async move { tls_example::serve(listener, acceptor).await.unwrap() });
        let tls = connect(&connector(&[trusted], None), addr, "localhost")
            .await
            .unwrap();
        echo_and_close(tls, vec![payload(3, 5000)]).await;
    });
}

/// PEM files without what they should hold are refused with a message naming them.
#[test]
fn load_pem_names_what_is_missing() {
    let empty = common::temp_path("empty.pem");
    std::fs::write(&empty, "").unwrap();
    let err = tls_example::load_pem(&empty, &empty)
        .err()
        .expect("an empty certificate file was accepted");
    assert_eq!(err.kind(), io::ErrorKind::InvalidData);
    assert!(
        err.to_string().contains(&empty.display().to_string()),
        "the error names the file: {err}"
    );

    let cert = common::temp_path("cert.pem");
    std::fs::write(
        &cert,
        rcgen::generate_simple_self_signed(vec!["localhost".to_owned()])
            .unwrap()
            .cert
            .pem(),
    )
    .unwrap();
    let err = tls_example::load_pem(&cert, &empty)
        .err()
        .expect("an empty key file was accepted");
    assert_eq!(err.kind(), io::ErrorKind::InvalidData);
    assert!(err.to_string().contains("private key"), "{err}");
    std::fs::remove_file(&empty).unwrap();
    std::fs::remove_file(&cert).unwrap();
}
