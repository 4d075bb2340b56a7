//! A TLS echo server on Zokio: every byte a client sends inside its TLS session comes
//! back to it, until it closes.
//!
//! TLS is `tokio-rustls` (rustls, with ring as its cryptography) over Zokio's
//! `TcpStream`, which implements tokio's `AsyncRead`/`AsyncWrite` (feature `tokio-io`,
//! on by default): no adapter and no tokio runtime.
//!
//! ```sh
//! cargo run -p zokio --example tls_echo [ADDR [CERT.pem KEY.pem]]   # default 127.0.0.1:4433
//! ```
//!
//! With `CERT.pem` (the chain, leaf first) and `KEY.pem` (PKCS#8, PKCS#1 or SEC1), the
//! server presents them. Without, it makes a self-signed certificate for `localhost`
//! with `rcgen`, writes it to a PEM file in the system's temporary directory and says
//! where, so that a client can trust it:
//!
//! ```sh
//! openssl s_client -connect 127.0.0.1:4433 -servername localhost -CAfile <that file>
//! ```
//!
//! Linux only for now (elsewhere `main` says so): see the `server` module's doc.
//!
//! `serve`, `acceptor`, `load_pem` and `self_signed` are the reusable parts:
//! `zokio/tests/example_tls_echo.rs` includes this file, makes its own certificate,
//! and drives the server with `tokio-rustls` clients.

#[cfg(target_os = "linux")]
pub use server::*;

/// Everything but `main`. Linux only: ring, which rustls uses here, compiles C and
/// assembly in its build script, and the project's cross checks (clippy for macOS,
/// the BSDs and Windows, from Linux) have no C compiler for those targets, so the TLS
/// crates are dev-dependencies on Linux alone. Nothing else here is Linux-specific.
#[cfg(target_os = "linux")]
mod server {
    use std::io;
    use std::path::Path;
    use std::sync::Arc;
    use std::time::Duration;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio_rustls::rustls::crypto::{ring, CryptoProvider};
    use tokio_rustls::rustls::pki_types::pem::PemObject;
    use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
    use tokio_rustls::rustls::ServerConfig;
    use tokio_rustls::TlsAcceptor;
    use zokio::net::{TcpListener, TcpStream};

    /// How long a client may take over its handshake before the server gives up on it.
    const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(30);

    /// A certificate chain and its private key.
    pub struct Identity {
        /// The chain, leaf first.
        pub chain: Vec<CertificateDer<'static>>,
        /// The leaf's private key.
        pub key: PrivateKeyDer<'static>,
    }

    /// A self-signed certificate for `localhost` (and 127.0.0.1), with the same
    /// certificate in PEM for a client to trust.
    pub fn self_signed() -> io::Result<(Identity, String)> {
        let made = rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()])
            .map_err(|err| io::Error::other(format!("making a self-signed certificate: {err}")))?;
        let pem = made.cert.pem();
        let identity = Identity {
            chain: vec![made.cert.der().clone()],
            key: PrivatePkcs8KeyDer::from(made.signing_key.serialize_der()).into(),
        };
        Ok((identity, pem))
    }

    /// The certificate chain in `cert` and the first private key in `key`, both PEM files.
    pub fn load_pem(cert: &Path, key: &Path) -> io::Result<Identity> {
        let pem_error = |what: &str, path: &Path, err: &dyn std::fmt::Display| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("reading the {what} in {}: {err}", path.display()),
            )
        };
        let chain = CertificateDer::pem_file_iter(cert)
            .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
            .map_err(|err| pem_error("certificates", cert, &err))?;
        if chain.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "{} holds no certificate: give a PEM file with a `CERTIFICATE` block",
                    cert.display()
                ),
            ));
        }
        let key =
            PrivateKeyDer::from_pem_file(key).map_err(|err| pem_error("private key", key, &err))?;
        Ok(Identity { chain, key })
    }

    /// rustls' cryptography on ring, named rather than left to the process default (which
    /// rustls cannot choose when a build enables two providers).
    ///
    /// rustls deprecates ring's provider because ring has no post-quantum key exchange;
    /// aws-lc has one, but building it needs cmake and a C toolchain for every target,
    /// which an example should not ask for. For a server of one's own, prefer aws-lc.
    #[allow(deprecated)]
    pub fn provider() -> Arc<CryptoProvider> {
        Arc::new(ring::default_provider())
    }

    /// A TLS acceptor presenting `identity`, with rustls' safe defaults (TLS 1.2 and 1.3)
    /// on ring, and no client certificates asked for.
    pub fn acceptor(identity: Identity) -> io::Result<TlsAcceptor> {
        let config = ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .and_then(|builder| {
                builder
                    .with_no_client_auth()
                    .with_single_cert(identity.chain, identity.key)
            })
            .map_err(|err| {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("setting up TLS with this certificate and key: {err}"),
                )
            })?;
        Ok(TlsAcceptor::from(Arc::new(config)))
    }

    /// Accept connections on `listener` forever, one task each, and echo what each
    /// client sends inside its TLS session. A failed handshake, a failed connection or a
    /// failed accept is printed and serving goes on.
    pub async fn serve(listener: TcpListener, acceptor: TlsAcceptor) -> io::Result<()> {
        loop {
            match listener.accept().await {
                Ok((stream, peer)) => {
                    let acceptor = acceptor.clone();
                    zokio::spawn(async move {
                        if let Err(err) = echo(stream, acceptor).await {
                            eprintln!("tls_echo: connection from {peer}: {err}");
                        }
                    });
                }
                Err(err) => {
                    eprintln!("tls_echo: accept failed: {err}");
                    // Aborted handshakes are one client's problem; anything else (out of
                    // descriptors) may persist, so do not spin on it.
                    if err.kind() != io::ErrorKind::ConnectionAborted {
                        zokio::time::sleep(Duration::from_millis(100)).await;
                    }
                }
            }
        }
    }

    /// One connection: the handshake, then every byte read written back, then a TLS
    /// close once the client has closed its side.
    async fn echo(stream: TcpStream, acceptor: TlsAcceptor) -> io::Result<()> {
        stream.set_nodelay(true)?;
        let mut tls = zokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream))
            .await
            .map_err(|_| {
                io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("no TLS handshake within {HANDSHAKE_TIMEOUT:?}"),
                )
            })??;
        let mut buf = vec![0; 16 * 1024];
        loop {
            let n = match tls.read(&mut buf).await {
                Ok(0) => break,
                Ok(n) => n,
                // A client gone without its TLS close (as many tools do at the end of
                // their input): nothing it sent can be cut short by this in an echo,
                // so it is a goodbye, not a fault.
                Err(err) if err.kind() == io::ErrorKind::UnexpectedEof => return Ok(()),
                Err(err) => return Err(err),
            };
            tls.write_all(&buf[..n]).await?;
            // rustls keeps what it has encrypted until flushed.
            tls.flush().await?;
        }
        tls.shutdown().await
    }

    /// The command line's server: the arguments read, the certificate loaded or made,
    /// then serving until the process is stopped.
    pub async fn run() -> io::Result<()> {
        let mut args = std::env::args().skip(1);
        let addr = args.next().unwrap_or_else(|| "127.0.0.1:4433".to_owned());
        let identity = match (args.next(), args.next()) {
            (Some(cert), Some(key)) => load_pem(Path::new(&cert), Path::new(&key))?,
            (None, None) => {
                let (identity, pem) = self_signed()?;
                let path = std::env::temp_dir().join("zokio-tls-echo-cert.pem");
                std::fs::write(&path, pem).map_err(|err| {
                    io::Error::new(
                        err.kind(),
                        format!("writing the certificate to {}: {err}", path.display()),
                    )
                })?;
                println!(
                    "self-signed certificate for localhost (trust it as a CA): {}",
                    path.display()
                );
                identity
            }
            _ => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "usage: tls_echo [ADDR [CERT.pem KEY.pem]]: give both files or neither",
                ))
            }
        };
        let acceptor = acceptor(identity)?;
        let listener = TcpListener::bind(addr.as_str()).await?;
        println!("TLS echo on {}", listener.local_addr()?);
        serve(listener, acceptor).await
    }
}

#[cfg(target_os = "linux")]
#[zokio::main]
async fn main() -> std::io::Result<()> {
    run().await
}

#[cfg(not(target_os = "linux"))]
fn main() {
    eprintln!("tls_echo: built on Linux only, where zokio's TLS dev-dependencies are");
}
