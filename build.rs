// The migrations are embedded in the binary (`embed_migrations!`), which cargo does not see:
// without this, a new migration is left out of an incremental build.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
