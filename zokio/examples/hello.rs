//! The README's first program: `#[zokio::main]` with a spawn.

#[zokio::main]
async fn main() {
    let handle = zokio::spawn(async { 6 * 7 });
    println!("the answer is {}", handle.await.unwrap());
}
