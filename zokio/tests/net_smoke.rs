use tokio::io::{AsyncReadExt, AsyncWriteExt};
use zokio::net::{TcpListener, TcpStream, UdpSocket, UnixStream};

#[zokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smoke_tcp_owned_and_poll() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = zokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let mut buf = Vec::with_capacity(4096);
        loop {
            let (n, b) = stream.read_owned(buf).await;
            let n = n.unwrap();
            if n == 0 {
                break;
            }
            let (r, b) = stream.write_all_owned(b).await;
            r.unwrap();
            buf = b;
        }
    });
    let mut client = TcpStream::connect(addr).await.unwrap();
    for size in [1usize, 100, 5000, 1 << 20] {
        let msg: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
        let (w, r) = (msg.clone(), &mut client);
        let (mut rd, mut wr) = r.split();
        let (a, b) = zokio::join!(async { wr.write_all(&w).await }, async {
            let mut got = vec![0u8; size];
            rd.read_exact(&mut got).await.map(|_| got)
        });
        a.unwrap();
        assert_eq!(b.unwrap(), msg);
    }
    client.shutdown().await.unwrap();
    server.await.unwrap();
}

#[zokio::test]
async fn smoke_udp_unix() {
    let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    a.send_to(b"hi", b.local_addr().unwrap()).await.unwrap();
    let mut buf = [0u8; 16];
    let (n, from) = b.recv_from(&mut buf).await.unwrap();
    assert_eq!((&buf[..n], from), (&b"hi"[..], a.local_addr().unwrap()));
    let (r, _) = b
        .send_to_owned(b"yo".to_vec(), a.local_addr().unwrap())
        .await;
    r.unwrap();
    let (r, buf) = a.recv_from_owned(Vec::with_capacity(16)).await;
    assert_eq!(r.unwrap().1, b.local_addr().unwrap());
    assert_eq!(buf, b"yo");
    let (x, mut y) = UnixStream::pair().unwrap();
    x.write_all_owned(b"unix".to_vec()).await.0.unwrap();
    let mut got = [0u8; 4];
    y.read_exact(&mut got).await.unwrap();
    assert_eq!(&got, b"unix");
}

#[zokio::test]
async fn smoke_errors() {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let e = TcpListener::bind(addr).await.unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::AddrInUse);
    println!("{e}");
    drop(l);
    let e = TcpStream::connect(addr).await.unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::ConnectionRefused);
    println!("{e}");
}
