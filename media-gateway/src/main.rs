//! Hotline media gateway: being built (issue 4).
fn main() {
    eprintln!("hotline-gateway: the media gateway is not built yet (issue 4)");
    std::process::exit(2);
}
