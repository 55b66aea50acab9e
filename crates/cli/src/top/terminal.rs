//! The interactive screen: keys without Enter (termios non-canonical mode,
//! no echo; signals stay on, so Ctrl-C still stops through the signal
//! thread), the alternate screen, the terminal's size. Everything is
//! restored when the [`Screen`] is dropped: at q, at a signal, and while
//! unwinding from a panic.

use std::io::{self, Read, Write};
use std::mem::MaybeUninit;
use std::sync::mpsc::SyncSender;

use crate::tracing::Message;

/// Whether a file descriptor is a terminal.
pub fn is_terminal(fd: libc::c_int) -> bool {
    // SAFETY: isatty only inspects the descriptor.
    unsafe { libc::isatty(fd) == 1 }
}

/// Rows and columns of the terminal on stdout (24 x 80 if unknown).
pub fn size() -> (usize, usize) {
    let mut size = MaybeUninit::<libc::winsize>::zeroed();
    // SAFETY: TIOCGWINSZ fills a winsize.
    let rc = unsafe { libc::ioctl(libc::STDOUT_FILENO, libc::TIOCGWINSZ, size.as_mut_ptr()) };
    // SAFETY: zero-initialised, possibly filled by the kernel.
    let size = unsafe { size.assume_init() };
    if rc != 0 || size.ws_row == 0 || size.ws_col == 0 {
        (24, 80)
    } else {
        (usize::from(size.ws_row), usize::from(size.ws_col))
    }
}

/// The interactive screen, restored on drop.
pub struct Screen {
    saved: Option<libc::termios>,
}

impl Screen {
    /// Switches stdin to single keys without echo (if it is a terminal) and
    /// stdout to the alternate screen with the cursor hidden.
    pub fn enter() -> io::Result<Self> {
        let mut saved = None;
        if is_terminal(libc::STDIN_FILENO) {
            let mut termios = MaybeUninit::<libc::termios>::uninit();
            // SAFETY: tcgetattr fills the termios on success.
            if unsafe { libc::tcgetattr(libc::STDIN_FILENO, termios.as_mut_ptr()) } != 0 {
                return Err(io::Error::last_os_error());
            }
            // SAFETY: filled by tcgetattr above.
            let original = unsafe { termios.assume_init() };
            let mut raw = original;
            raw.c_lflag &= !(libc::ICANON | libc::ECHO);
            raw.c_cc[libc::VMIN] = 1;
            raw.c_cc[libc::VTIME] = 0;
            // SAFETY: a valid termios for our own terminal.
            if unsafe { libc::tcsetattr(libc::STDIN_FILENO, libc::TCSANOW, &raw const raw) } != 0 {
                return Err(io::Error::last_os_error());
            }
            saved = Some(original);
        }
        let screen = Self { saved };
        let mut out = io::stdout().lock();
        out.write_all(b"\x1b[?1049h\x1b[?25l")?;
        out.flush()?;
        Ok(screen)
    }

    /// Replaces the screen's content with `lines`, each cut to the width.
    pub fn draw(&self, lines: &[String]) -> io::Result<()> {
        let (_, columns) = size();
        let mut frame = String::from("\x1b[H\x1b[2J");
        for line in lines {
            frame.extend(line.chars().take(columns));
            frame.push_str("\r\n");
        }
        let mut out = io::stdout().lock();
        out.write_all(frame.as_bytes())?;
        out.flush()
    }

    /// Reads keys on a thread of its own and sends them as messages (the
    /// thread ends with stdin or the channel).
    pub fn spawn_key_reader(&self, channel: SyncSender<Message>) -> io::Result<()> {
        if self.saved.is_none() {
            return Ok(());
        }
        std::thread::Builder::new()
            .name("keys".into())
            .spawn(move || {
                let mut key = [0u8; 1];
                while let Ok(1) = io::stdin().lock().read(&mut key) {
                    if channel.send(Message::Key(key[0])).is_err() {
                        break;
                    }
                }
            })
            .map(drop)
    }
}

impl Drop for Screen {
    fn drop(&mut self) {
        let mut out = io::stdout().lock();
        let _ = out.write_all(b"\x1b[?25h\x1b[?1049l");
        let _ = out.flush();
        if let Some(original) = &self.saved {
            // SAFETY: restoring the attributes read at enter().
            unsafe { libc::tcsetattr(libc::STDIN_FILENO, libc::TCSANOW, original) };
        }
    }
}
