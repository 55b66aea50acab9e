//! dlopen/dlsym, as the C monitors use the libraries.

use std::ffi::{CStr, CString, c_void};
use std::path::Path;

/// An open shared library.
#[derive(Debug)]
pub struct DynLib {
    handle: *mut c_void,
}

fn dl_error() -> String {
    // SAFETY: dlerror returns NULL or a NUL-terminated string owned by libc.
    let err = unsafe { libc::dlerror() };
    if err.is_null() {
        "unknown dlopen error".into()
    } else {
        // SAFETY: non-null, NUL-terminated (above).
        unsafe { CStr::from_ptr(err) }.to_string_lossy().into_owned()
    }
}

// SAFETY: a dlopen handle may be used from any thread; the libraries' own
// functions are documented as thread-safe.
unsafe impl Send for DynLib {}
// SAFETY: as above; DynLib has no interior state besides the handle.
unsafe impl Sync for DynLib {}

impl DynLib {
    /// `dlopen(path, RTLD_LAZY)`, as the original test programs do.
    pub fn open(path: &Path) -> Result<Self, String> {
        let c_path = CString::new(path.as_os_str().as_encoded_bytes()).map_err(|e| e.to_string())?;
        // SAFETY: a valid C string; dlopen has no other preconditions.
        let handle = unsafe { libc::dlopen(c_path.as_ptr(), libc::RTLD_LAZY) };
        if handle.is_null() {
            return Err(format!("dlopen {}: {}", path.display(), dl_error()));
        }
        Ok(Self { handle })
    }

    /// `dlsym` for a function of type `F` (a `unsafe extern "C" fn` pointer).
    ///
    /// # Safety
    /// `F` must be the function's true signature.
    pub unsafe fn function<F: Copy>(&self, name: &str) -> Result<F, String> {
        assert_eq!(std::mem::size_of::<F>(), std::mem::size_of::<*mut c_void>());
        let c_name = CString::new(name).map_err(|e| e.to_string())?;
        // SAFETY: valid handle and C string.
        let symbol = unsafe { libc::dlsym(self.handle, c_name.as_ptr()) };
        if symbol.is_null() {
            return Err(format!("dlsym {name}: {}", dl_error()));
        }
        // SAFETY: the caller promises F is the symbol's signature; sizes match.
        Ok(unsafe { std::mem::transmute_copy::<*mut c_void, F>(&symbol) })
    }

    /// `dlclose`; returns dlclose's result.
    pub fn close(self) -> i32 {
        // SAFETY: the handle came from dlopen and is closed once (self is consumed).
        unsafe { libc::dlclose(self.handle) }
    }
}
