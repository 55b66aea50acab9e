//! The C ABI as data: structs and functions declared once in Rust through
//! [`c_struct!`](crate::c_struct) and [`c_api!`](crate::c_api), from which the
//! checked-in headers in `include/` are rendered. A test in each library
//! compares its header with [`render_header`]'s output, so the header cannot
//! drift from the code.

use std::ffi::c_char;
use std::fmt::Write as _;

/// A Rust type with a C spelling.
pub trait CType {
    /// The C type without declarator, e.g. `uint64_t` or `struct tcp_event_t`.
    const C_BASE: &'static str;

    /// A declaration of `ident` with this type (`ident` may be empty).
    fn c_decl(ident: &str) -> String {
        join_decl(Self::C_BASE, ident)
    }
}

fn join_decl(base: &str, ident: &str) -> String {
    if ident.is_empty() {
        base.to_owned()
    } else {
        format!("{base} {ident}")
    }
}

macro_rules! scalar_c_types {
    ($($rust:ty => $c:literal),* $(,)?) => {
        $(impl CType for $rust {
            const C_BASE: &'static str = $c;
        })*
    };
}

scalar_c_types! {
    u8 => "uint8_t",
    u16 => "uint16_t",
    u32 => "uint32_t",
    u64 => "uint64_t",
    i32 => "int32_t",
    c_char => "char",
    usize => "size_t",
}

impl<T: CType, const N: usize> CType for [T; N] {
    const C_BASE: &'static str = T::C_BASE;

    fn c_decl(ident: &str) -> String {
        format!("{} {ident}[{N}]", T::C_BASE)
    }
}

impl<T: CType> CType for *const T {
    const C_BASE: &'static str = T::C_BASE;

    fn c_decl(ident: &str) -> String {
        format!("const {} *{ident}", T::C_BASE)
    }
}

impl<T: CType> CType for *mut T {
    const C_BASE: &'static str = T::C_BASE;

    fn c_decl(ident: &str) -> String {
        format!("{} *{ident}", T::C_BASE)
    }
}

/// The all-zero value of a field type, so ABI structs get a zeroed
/// constructor without `unsafe { mem::zeroed() }`.
pub trait Zeroed: Copy {
    /// All bits zero.
    const ZERO: Self;
}

macro_rules! zeroed_scalars {
    ($($t:ty),*) => { $(impl Zeroed for $t { const ZERO: Self = 0; })* };
}
zeroed_scalars!(u8, u16, u32, u64, i8, i32, usize);

impl<T: Zeroed, const N: usize> Zeroed for [T; N] {
    const ZERO: Self = [T::ZERO; N];
}

/// One field of an ABI struct, as the header prints it.
#[derive(Debug, Clone)]
pub struct CField {
    /// Field name, identical in C and Rust.
    pub name: &'static str,
    /// Full C declaration, e.g. `char task[128]`.
    pub decl: String,
    /// Byte offset.
    pub offset: usize,
    /// Byte size.
    pub size: usize,
    /// Documentation (the Rust doc comment).
    pub doc: &'static str,
}

/// An ABI struct declared with [`c_struct!`](crate::c_struct).
pub trait CStruct: CType + Copy {
    /// The C struct tag, e.g. `tcp_event_t`.
    const C_NAME: &'static str;
    /// Documentation (the Rust doc comment).
    const DOC: &'static str;
    /// Whether it is `#pragma pack(1)` (else naturally aligned).
    const PACKED: bool;
    /// Fields in declaration order with their offsets.
    fn fields() -> Vec<CField>;
    /// The all-zero value, which the libraries return after `cleanup()`.
    fn zeroed() -> Self;
}

/// Declares a C struct and its Rust mirror at once: `#pragma pack(1)` (the
/// original's structs), or, with `#[aligned]` after the name, naturally
/// aligned (the additive API's structs, which only ever grow at the end).
///
/// Field names are the C names (the original's `EventTime`, `SADDR`, ...),
/// hence the `non_snake_case` allowance.
#[macro_export]
macro_rules! c_struct {
    (
        $(#[doc = $doc:literal])*
        #[c_name = $c_name:literal]
        #[aligned]
        pub struct $name:ident { $($body:tt)* }
    ) => {
        $crate::c_struct!(@define [C] false $(#[doc = $doc])* $c_name $name { $($body)* });
    };
    (
        $(#[doc = $doc:literal])*
        #[c_name = $c_name:literal]
        pub struct $name:ident { $($body:tt)* }
    ) => {
        $crate::c_struct!(@define [C, packed] true $(#[doc = $doc])* $c_name $name { $($body)* });
    };
    (
        @define [$($repr:ident),*] $packed:literal
        $(#[doc = $doc:literal])*
        $c_name:literal $name:ident {
            $( $(#[doc = $fdoc:literal])* pub $field:ident : $ty:ty ),* $(,)?
        }
    ) => {
        $(#[doc = $doc])*
        #[repr($($repr),*)]
        #[derive(Clone, Copy)]
        #[allow(non_snake_case)]
        pub struct $name {
            $( $(#[doc = $fdoc])* pub $field: $ty ),*
        }

        impl $crate::abi::CType for $name {
            const C_BASE: &'static str = concat!("struct ", $c_name);
        }

        impl $crate::abi::CStruct for $name {
            const C_NAME: &'static str = $c_name;
            const DOC: &'static str = concat!($($doc, "\n"),*);
            const PACKED: bool = $packed;

            fn fields() -> ::std::vec::Vec<$crate::abi::CField> {
                ::std::vec![$(
                    $crate::abi::CField {
                        name: stringify!($field),
                        decl: <$ty as $crate::abi::CType>::c_decl(stringify!($field)),
                        offset: ::core::mem::offset_of!($name, $field),
                        size: ::core::mem::size_of::<$ty>(),
                        doc: concat!($($fdoc),*),
                    }
                ),*]
            }

            fn zeroed() -> Self {
                Self { $( $field: <$ty as $crate::abi::Zeroed>::ZERO ),* }
            }
        }
    };
}

/// One exported function, as the header declares it.
#[derive(Debug, Clone)]
pub struct CFunction {
    /// Symbol name.
    pub name: &'static str,
    /// C return type.
    pub ret: String,
    /// C parameter declarations.
    pub params: Vec<String>,
    /// Documentation (the Rust doc comment).
    pub doc: &'static str,
}

impl CFunction {
    fn params(&self) -> String {
        if self.params.is_empty() {
            "void".to_owned()
        } else {
            self.params.join(", ")
        }
    }

    /// The prototype, e.g. `void AddProbe(const char *bpf_program)`.
    pub fn prototype(&self) -> String {
        format!("{} {}({})", self.ret, self.name, self.params())
    }

    /// A pointer type for dlsym(), e.g.
    /// `typedef void (*tcpEvent_AddProbe_fn)(const char *bpf_program)`.
    pub fn pointer_typedef(&self, prefix: &str) -> String {
        let name = if self.name.starts_with(prefix) {
            format!("{}_fn", self.name)
        } else {
            format!("{prefix}_{}_fn", self.name)
        };
        format!("typedef {} (*{name})({})", self.ret, self.params())
    }
}

/// Defines `#[no_mangle] extern "C"` functions and a function named after
/// `prototypes =` that lists them for the header. Every function is
/// `unsafe extern "C"`: C callers hand over raw pointers whose validity only
/// they can promise.
#[macro_export]
macro_rules! c_api {
    (
        prototypes = $prototypes:ident;
        $(
            $(#[doc = $doc:literal])*
            pub unsafe extern "C" fn $name:ident ( $( $arg:ident : $argty:ty ),* $(,)? ) $( -> $ret:ty )? $body:block
        )*
    ) => {
        $(
            $(#[doc = $doc])*
            #[unsafe(no_mangle)]
            #[allow(non_snake_case)]
            pub unsafe extern "C" fn $name ( $( $arg : $argty ),* ) $( -> $ret )? $body
        )*

        /// Every function exported above, in declaration order.
        pub fn $prototypes() -> ::std::vec::Vec<$crate::abi::CFunction> {
            ::std::vec![$(
                $crate::abi::CFunction {
                    name: stringify!($name),
                    ret: $crate::c_api!(@ret $($ret)?),
                    params: ::std::vec![$( <$argty as $crate::abi::CType>::c_decl(stringify!($arg)) ),*],
                    doc: concat!($($doc, "\n"),*),
                }
            ),*]
        }
    };
    (@ret) => { ::std::string::String::from("void") };
    (@ret $ret:ty) => { <$ret as $crate::abi::CType>::c_decl("") };
}

/// What one header contains.
#[derive(Debug)]
pub struct HeaderSpec<'a> {
    /// File name, e.g. `tcpEvent.h`; also gives the include guard.
    pub file_name: &'a str,
    /// The library's prefix (`tcpEvent`): its additive calls carry it, and the
    /// function-pointer typedefs for dlsym() are named `<prefix>_<name>_fn`.
    pub prefix: &'a str,
    /// Crate that holds the definitions, named in the "generated" note.
    pub source: &'a str,
    /// Text placed at the top, before the declarations.
    pub preamble: String,
    /// `#define` lines: (name, value, doc).
    pub defines: Vec<(&'a str, &'a str, &'a str)>,
    /// Structs private to this header.
    pub structs: Vec<RenderedStruct>,
    /// Structs that both libraries' headers declare, guarded so that one
    /// translation unit can include both headers.
    pub shared_structs: Vec<RenderedStruct>,
    /// Exported functions.
    pub functions: Vec<CFunction>,
}

/// A struct ready to print.
#[derive(Debug)]
pub struct RenderedStruct {
    name: &'static str,
    doc: &'static str,
    fields: Vec<CField>,
    size: usize,
    packed: bool,
}

impl RenderedStruct {
    /// Captures the layout of `S`.
    pub fn of<S: CStruct>() -> Self {
        Self {
            name: S::C_NAME,
            doc: S::DOC,
            fields: S::fields(),
            size: std::mem::size_of::<S>(),
            packed: S::PACKED,
        }
    }
}

fn push_comment(out: &mut String, indent: &str, text: &str) {
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    if lines.iter().all(|line| line.is_empty()) {
        return;
    }
    out.push_str(indent);
    out.push_str("/*");
    if lines.len() == 1 {
        let _ = writeln!(out, " {} */", lines[0]);
        return;
    }
    out.push('\n');
    for line in lines {
        if line.is_empty() {
            let _ = writeln!(out, "{indent} *");
        } else {
            let _ = writeln!(out, "{indent} * {line}");
        }
    }
    let _ = writeln!(out, "{indent} */");
}

fn push_struct(out: &mut String, rendered: &RenderedStruct) {
    push_comment(out, "", rendered.doc);
    let _ = writeln!(out, "struct {} {{", rendered.name);
    for field in &rendered.fields {
        push_comment(out, "    ", field.doc);
        let _ = writeln!(out, "    {}; /* offset {} */", field.decl, field.offset);
    }
    let _ = writeln!(out, "}}; /* {} bytes */", rendered.size);
}

/// Renders a complete header.
pub fn render_header(spec: &HeaderSpec<'_>) -> String {
    let guard: String = spec
        .file_name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "/* {}: generated from the Rust definitions in {}. Do not edit;\n * regenerate with `./run.sh headers`. */",
        spec.file_name, spec.source
    );
    let _ = writeln!(out, "#ifndef {guard}\n#define {guard}\n");
    let _ = writeln!(out, "#include <stddef.h>\n#include <stdint.h>\n");
    if !spec.preamble.is_empty() {
        push_comment(&mut out, "", &spec.preamble);
        out.push('\n');
    }
    let _ = writeln!(out, "#ifdef __cplusplus\nextern \"C\" {{\n#endif\n");
    for (name, value, doc) in &spec.defines {
        push_comment(&mut out, "", doc);
        let _ = writeln!(out, "#define {name} {value}");
    }
    if !spec.defines.is_empty() {
        out.push('\n');
    }
    out.push_str("#pragma pack(push, 1)\n\n");
    for rendered in spec.structs.iter().filter(|s| s.packed) {
        push_struct(&mut out, rendered);
        out.push('\n');
    }
    for rendered in &spec.shared_structs {
        let shared_guard = format!("{}_DEFINED", rendered.name.to_ascii_uppercase());
        let _ = writeln!(out, "#ifndef {shared_guard}\n#define {shared_guard}");
        push_struct(&mut out, rendered);
        let _ = writeln!(out, "#endif\n");
    }
    out.push_str("#pragma pack(pop)\n\n");
    // The additive API's structs are naturally aligned: each field at its
    // own alignment, so new fields can be appended and read in place.
    for rendered in spec.structs.iter().filter(|s| !s.packed) {
        push_struct(&mut out, rendered);
        out.push('\n');
    }
    // The original's names are the same in both libraries with different
    // signatures, so one translation unit cannot declare both sets; a
    // program that dlopen()s both defines EVENT_INTERCEPTOR_DLOPEN_ONLY and
    // uses the typedefs below.
    let (own, original): (Vec<&CFunction>, Vec<&CFunction>) =
        spec.functions.iter().partition(|f| f.name.starts_with(spec.prefix));
    out.push_str("#ifndef EVENT_INTERCEPTOR_DLOPEN_ONLY\n\n");
    for function in &original {
        push_comment(&mut out, "", function.doc);
        let _ = writeln!(out, "{};\n", function.prototype());
    }
    out.push_str("#endif /* EVENT_INTERCEPTOR_DLOPEN_ONLY */\n\n");
    for function in &own {
        push_comment(&mut out, "", function.doc);
        let _ = writeln!(out, "{};\n", function.prototype());
    }
    let _ = writeln!(out, "/* Pointer types for dlsym(), one per function above. */");
    for function in &spec.functions {
        let _ = writeln!(out, "{};", function.pointer_typedef(spec.prefix));
    }
    out.push('\n');
    let _ = writeln!(out, "#ifdef __cplusplus\n}}\n#endif\n\n#endif /* {guard} */");
    out
}

/// Copies `text` into a fixed C string field, truncating and always leaving
/// a terminating NUL (the rest of the field stays as it was, zero for a
/// zeroed struct).
pub fn copy_c_string(field: &mut [c_char], text: &[u8]) {
    let Some(room) = field.len().checked_sub(1) else {
        return;
    };
    let len = text.iter().position(|&b| b == 0).unwrap_or(text.len()).min(room);
    for (dst, &src) in field.iter_mut().zip(&text[..len]) {
        *dst = src as c_char;
    }
    field[len] = 0;
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::c_struct! {
        /// A test struct.
        #[c_name = "demo_t"]
        pub struct Demo {
            /// first
            pub a: u16,
            pub b: u64,
            pub name: [c_char; 4],
        }
    }

    #[test]
    fn packed_offsets_and_declarations() {
        let fields = Demo::fields();
        let summary: Vec<(String, usize)> = fields.iter().map(|f| (f.decl.clone(), f.offset)).collect();
        assert_eq!(
            summary,
            vec![
                ("uint16_t a".to_owned(), 0),
                ("uint64_t b".to_owned(), 2),
                ("char name[4]".to_owned(), 10)
            ]
        );
        assert_eq!(std::mem::size_of::<Demo>(), 14);
        assert_eq!(<*const c_char as CType>::c_decl("p"), "const char *p");
        assert_eq!(<*mut Demo as CType>::c_decl("out"), "struct demo_t *out");
    }

    #[test]
    fn c_string_copy_truncates_and_terminates() {
        let mut field = [7 as c_char; 4];
        copy_c_string(&mut field, b"abcdef");
        assert_eq!(field, [b'a' as c_char, b'b' as c_char, b'c' as c_char, 0]);
        copy_c_string(&mut field, b"x\0yz");
        assert_eq!(field[..2], [b'x' as c_char, 0]);
    }
}
