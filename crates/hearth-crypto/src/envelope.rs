//! age envelopes: encrypt to X25519 recipients, decrypt and re-encrypt, all streaming.
//!
//! Every call works through a fixed-size buffer, so memory stays constant for any
//! file size. Decryption writes each chunk only after it has authenticated; when
//! `decrypt` or `reencrypt` fails part-way, the output already written must be
//! discarded by the caller.

use std::cell::Cell;
use std::io::{self, BufReader, Cursor, Read, Write};
use std::iter;
use std::rc::Rc;

use age::x25519;
use zeroize::Zeroizing;

use crate::{CryptoError, Result};

/// The first line of every age v1 file.
pub const AGE_MAGIC: &[u8] = b"age-encryption.org/v1\n";
/// Plaintext bytes per age STREAM chunk (the last chunk may be shorter).
pub const CHUNK_BYTES: usize = 64 * 1024;
/// Largest age header (recipient stanzas and MAC) hearth reads before giving up.
pub const AGE_HEADER_BYTES_MAX: u64 = 64 * 1024;
/// How an age secret key string starts; such a string is refused as a recipient.
const SECRET_KEY_PREFIX: &str = "AGE-SECRET-KEY-";
/// Size of the buffer every stream is copied through.
const COPY_BUFFER_BYTES: usize = CHUNK_BYTES;

/// Whether `prefix` (the first bytes of a file) starts like a binary age v1 file.
pub fn looks_like_age(prefix: &[u8]) -> bool {
    prefix.starts_with(AGE_MAGIC)
}

/// Parses an age X25519 recipient (`age1...`). The input is never echoed in the error.
pub fn parse_recipient(s: &str) -> Result<x25519::Recipient> {
    let s = s.trim();
    // Compared in place: an uppercased copy of a pasted secret key would outlive this call.
    if s.get(..SECRET_KEY_PREFIX.len()).is_some_and(|p| p.eq_ignore_ascii_case(SECRET_KEY_PREFIX)) {
        return Err(CryptoError::InvalidRecipient {
            reason: "this is a secret key (AGE-SECRET-KEY-1...); give its public age1... recipient".to_owned(),
        });
    }
    s.parse::<x25519::Recipient>().map_err(|e| CryptoError::InvalidRecipient {
        reason: format!("expected an X25519 recipient starting with age1 ({e})"),
    })
}

/// Encrypts `input` to every recipient with a fresh file key and writes the age file to
/// `output`. Returns the number of plaintext bytes. Empty input is allowed.
pub fn encrypt<R: Read, W: Write>(recipients: &[x25519::Recipient], mut input: R, output: W) -> Result<u64> {
    let mut writer = start_encryption(recipients, output)?;
    let plaintext_bytes = pump(&mut input, &mut writer, CryptoError::Io)?;
    writer.finish()?.flush()?;
    Ok(plaintext_bytes)
}

/// Decrypts the age file read from `input` with `identity`, writing the plaintext to
/// `output`. Returns the number of plaintext bytes.
pub fn decrypt<R: Read, W: Write>(identity: &x25519::Identity, input: R, mut output: W) -> Result<u64> {
    let (mut reader, state) = start_decryption(identity, input)?;
    let plaintext_bytes = pump(&mut reader, &mut output, |e| payload_error(e, &state))?;
    output.flush()?;
    Ok(plaintext_bytes)
}

/// Decrypts with `identity` and encrypts again to `recipients` under a fresh file key,
/// without the plaintext leaving memory. Returns the number of plaintext bytes.
pub fn reencrypt<R: Read, W: Write>(
    identity: &x25519::Identity,
    recipients: &[x25519::Recipient],
    input: R,
    output: W,
) -> Result<u64> {
    // The header is checked first, so nothing is written for a file this key cannot open.
    let (mut reader, state) = start_decryption(identity, input)?;
    let mut writer = start_encryption(recipients, output)?;
    let plaintext_bytes = pump(&mut reader, &mut writer, |e| payload_error(e, &state))?;
    writer.finish()?.flush()?;
    Ok(plaintext_bytes)
}

fn start_encryption<W: Write>(recipients: &[x25519::Recipient], output: W) -> Result<age::stream::StreamWriter<W>> {
    if recipients.is_empty() {
        return Err(CryptoError::NoRecipients);
    }
    let encryptor =
        age::Encryptor::with_recipients(recipients.iter().map(|r| r as &dyn age::Recipient)).map_err(|e| match e {
            age::EncryptError::Io(e) => CryptoError::Io(e),
            age::EncryptError::MissingRecipients => CryptoError::NoRecipients,
            other => CryptoError::InvalidRecipient { reason: other.to_string() },
        })?;
    Ok(encryptor.wrap_output(output)?)
}

/// What the decryptor has seen of its input, shared with the error classifier.
#[derive(Default)]
struct InputState {
    /// Ciphertext bytes read so far (header included).
    bytes: Cell<u64>,
    /// The input reported its end.
    eof: Cell<bool>,
    /// The input itself failed (a real I/O error, not a format problem).
    failed: Cell<bool>,
    /// Still reading the header, which is capped at `AGE_HEADER_BYTES_MAX`.
    in_header: Cell<bool>,
    /// The header cap was hit.
    header_too_large: Cell<bool>,
}

/// Passes reads through, recording end of input, input errors and the header cap.
struct Tracked<R> {
    inner: R,
    state: Rc<InputState>,
}

impl<R: Read> Read for Tracked<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let state = &self.state;
        let mut buf = buf;
        if state.in_header.get() {
            let left = AGE_HEADER_BYTES_MAX.saturating_sub(state.bytes.get());
            if left == 0 {
                state.header_too_large.set(true);
                return Err(io::Error::other("age header too large"));
            }
            let len = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
            buf = &mut buf[..len];
        }
        match self.inner.read(buf) {
            Ok(0) => {
                if !buf.is_empty() {
                    state.eof.set(true);
                }
                Ok(0)
            }
            Ok(n) => {
                state.bytes.set(state.bytes.get() + n as u64);
                Ok(n)
            }
            Err(e) => {
                if e.kind() != io::ErrorKind::Interrupted {
                    state.failed.set(true);
                }
                Err(e)
            }
        }
    }
}

type PayloadReader<R> = age::stream::StreamReader<BufReader<Tracked<io::Chain<Cursor<Vec<u8>>, R>>>>;

/// Checks the magic, parses the header and unwraps the file key with `identity`.
fn start_decryption<R: Read>(identity: &x25519::Identity, mut input: R) -> Result<(PayloadReader<R>, Rc<InputState>)> {
    let mut prefix = [0u8; AGE_MAGIC.len()];
    let read = read_prefix(&mut input, &mut prefix)?;
    if !looks_like_age(&prefix[..read]) {
        return Err(CryptoError::NotAgeFile);
    }

    let state = Rc::new(InputState::default());
    state.in_header.set(true);
    let tracked = Tracked { inner: Cursor::new(prefix[..read].to_vec()).chain(input), state: Rc::clone(&state) };
    let decryptor = age::Decryptor::new_buffered(BufReader::new(tracked)).map_err(|e| header_error(e, &state))?;
    state.in_header.set(false);

    let reader = decryptor.decrypt(iter::once(identity as &dyn age::Identity)).map_err(|e| header_error(e, &state))?;
    Ok((reader, state))
}

/// Reads until `buf` is full or the input ends; returns how many bytes were read.
pub(crate) fn read_prefix(input: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match input.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Maps an error from parsing the header or unwrapping the file key.
fn header_error(e: age::DecryptError, state: &InputState) -> CryptoError {
    use age::DecryptError as E;
    match e {
        E::Io(_) if state.header_too_large.get() => {
            CryptoError::Integrity { reason: format!("header is larger than {AGE_HEADER_BYTES_MAX} bytes") }
        }
        E::Io(e) if state.failed.get() => CryptoError::Io(e),
        E::Io(e) if e.kind() == io::ErrorKind::UnexpectedEof => CryptoError::Truncated,
        E::Io(e) => CryptoError::Io(e),
        E::NoMatchingKeys => CryptoError::NotForThisKey,
        E::UnknownFormat => CryptoError::NotAgeFile,
        E::InvalidHeader => CryptoError::Integrity { reason: "malformed header".to_owned() },
        E::InvalidMac => CryptoError::Integrity { reason: "header MAC mismatch".to_owned() },
        other => CryptoError::Integrity { reason: other.to_string() },
    }
}

/// Maps an error from reading the decrypted payload.
///
/// age reports a chunk that fails authentication as `InvalidData`. When that chunk was
/// cut short by the end of the input, the file was truncated inside a chunk (or its
/// final chunk was altered: the two cannot be told apart); a full-size chunk that fails
/// was altered. An input that ends on a chunk boundary before the final chunk is
/// `UnexpectedEof`.
fn payload_error(e: io::Error, state: &InputState) -> CryptoError {
    if state.failed.get() {
        return CryptoError::Io(e);
    }
    match e.kind() {
        io::ErrorKind::UnexpectedEof => CryptoError::Truncated,
        io::ErrorKind::InvalidData if state.eof.get() => CryptoError::Truncated,
        io::ErrorKind::InvalidData => {
            CryptoError::Integrity { reason: "a payload chunk failed authentication".to_owned() }
        }
        _ => CryptoError::Io(e),
    }
}

/// Copies `input` to `output` through a zeroized buffer; returns the bytes copied.
fn pump(input: &mut impl Read, output: &mut impl Write, read_error: impl Fn(io::Error) -> CryptoError) -> Result<u64> {
    let mut buf = Zeroizing::new(vec![0u8; COPY_BUFFER_BYTES]);
    let mut total: u64 = 0;
    loop {
        let n = match input.read(&mut buf[..]) {
            Ok(0) => return Ok(total),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(read_error(e)),
        };
        output.write_all(&buf[..n])?;
        total += n as u64;
    }
}
