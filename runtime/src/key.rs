//! Keys: a call's identity, encoded into a reused per-thread buffer and hashed to 128 bits.

use crate::bounds::{KeyArg, KeyReceiver};
use crate::codec;
use crate::function::FunctionState;
use crate::site::Site;
use serde::Serialize;
use std::cell::Cell;

/// Reused buffers larger than this are dropped instead of kept: one oversized argument must not
/// pin its size in every thread for the life of the process.
pub(crate) const REUSED_BUFFER_LIMIT: usize = 4096;

thread_local! {
    /// Reused by every key derivation on this thread: no allocation once warm.
    static KEY_BUFFER: Cell<Vec<u8>> = const { Cell::new(Vec::new()) };
    pub(crate) static TAG_BUFFER: Cell<String> = const { Cell::new(String::new()) };
}

/// The identity of one call: its function and the 128-bit hash of its arguments.
pub struct Key {
    pub(crate) function: &'static FunctionState,
    /// `None`: an argument failed to encode; the call runs uncached.
    pub(crate) hash: Option<u128>,
    /// The function's `condition` excluded this call: it runs uncached.
    pub(crate) skip: bool,
}

/// Encodes a call's identity: function seed ‖ arguments ‖ type names, then hashes it.
pub struct KeyBuilder {
    function: &'static FunctionState,
    buffer: Vec<u8>,
    failed: bool,
    skip: bool,
}

impl KeyBuilder {
    /// Starts the key of a call to the function whose body declares `id`.
    pub fn new<I: Fn()>(site: &'static Site, id: I) -> KeyBuilder {
        let _ = id;
        let function = site.function::<I>();
        let mut buffer = KEY_BUFFER.with(Cell::take);
        buffer.clear();
        buffer.extend_from_slice(&function.seed);
        KeyBuilder {
            function,
            buffer,
            failed: false,
            skip: false,
        }
    }

    fn encode<T: Serialize + ?Sized>(&mut self, value: &T) {
        if codec::encode_key_into(value, &mut self.buffer).is_err() {
            self.failed = true;
        }
    }

    /// Adds an argument.
    pub fn arg<T: KeyArg + ?Sized>(&mut self, value: &T) {
        self.encode(value);
    }

    /// Adds the receiver.
    pub fn receiver<T: KeyReceiver + ?Sized>(&mut self, value: &T) {
        self.encode(value);
    }

    /// Adds a type's name (type parameters, `Self`, `impl Trait` arguments).
    pub fn type_name(&mut self, name: &'static str) {
        self.encode(name);
    }

    /// Marks the call as excluded by the function's `condition`: it runs uncached.
    pub fn skip_cache(&mut self) {
        self.skip = true;
    }

    /// The key.
    pub fn finish(self) -> Key {
        let hash = (!self.failed).then(|| xxhash_rust::xxh3::xxh3_128(&self.buffer));
        Key {
            function: self.function,
            hash,
            skip: self.skip,
        }
    }
}

impl Drop for KeyBuilder {
    fn drop(&mut self) {
        let buffer = std::mem::take(&mut self.buffer);
        if buffer.capacity() <= REUSED_BUFFER_LIMIT {
            KEY_BUFFER.with(|cell| cell.set(buffer));
        }
    }
}
