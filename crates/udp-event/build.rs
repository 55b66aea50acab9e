//! Links the library with `-z nodelete`: dlclose() never unmaps it, so a
//! consumer that cleanup() released, still returning through the library's
//! code, cannot fault when the caller closes the library right after
//! cleanup() (and repeated dlopen()/dlclose() reuse the one copy).

fn main() {
    println!("cargo:rustc-cdylib-link-arg=-Wl,-z,nodelete");
}
