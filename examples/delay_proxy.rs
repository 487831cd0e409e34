//! A TCP proxy that delays every chunk by a fixed time in each direction, to benchmark the
//! server against a database that is not on this machine. The delay is latency, not a limit:
//! chunks keep flowing while earlier ones wait, as on a real network.
//!
//! cargo run --release --example delay_proxy -- LISTEN UPSTREAM DELAY_MS
//! e.g. delay_proxy 127.0.0.1:6543 127.0.0.1:5432 1

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::time::Instant;

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: delay_proxy LISTEN UPSTREAM DELAY_MS";
    let listen = args.next().expect(usage);
    let upstream = args.next().expect(usage);
    let delay = Duration::from_millis(args.next().expect(usage).parse().expect(usage));
    let listener = TcpListener::bind(&listen).await?;
    println!("listening on {}", listener.local_addr()?);
    loop {
        let (client, _) = listener.accept().await?;
        let upstream = upstream.clone();
        tokio::spawn(async move {
            let Ok(server) = TcpStream::connect(&upstream).await else {
                return;
            };
            let _ = client.set_nodelay(true);
            let _ = server.set_nodelay(true);
            let (client_read, client_write) = client.into_split();
            let (server_read, server_write) = server.into_split();
            tokio::spawn(delayed(client_read, server_write, delay));
            tokio::spawn(delayed(server_read, client_write, delay));
        });
    }
}

/// Copies `from` to `to`, each chunk written `delay` after it was read.
async fn delayed(mut from: OwnedReadHalf, mut to: OwnedWriteHalf, delay: Duration) {
    let (send, mut receive) = mpsc::unbounded_channel::<(Instant, Vec<u8>)>();
    let writer = tokio::spawn(async move {
        while let Some((due, chunk)) = receive.recv().await {
            tokio::time::sleep_until(due).await;
            if to.write_all(&chunk).await.is_err() {
                return;
            }
        }
        let _ = to.shutdown().await;
    });
    let mut buffer = vec![0u8; 64 * 1024];
    while let Ok(n) = from.read(&mut buffer).await {
        if n == 0
            || send
                .send((Instant::now() + delay, buffer[..n].to_vec()))
                .is_err()
        {
            break;
        }
    }
    drop(send);
    let _ = writer.await;
}
