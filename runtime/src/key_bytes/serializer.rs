//! The serde serializer that writes arguments into a key's bytes (the encoding is described in
//! the parent module).

use super::KeyBytes;
use serde::ser::{self, Serialize};
use std::fmt::{self, Write as _};

/// An argument whose `Serialize` failed: the call runs uncached.
#[derive(Debug)]
pub(crate) struct KeyError;

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an argument could not be encoded into a key")
    }
}

impl std::error::Error for KeyError {}

impl ser::Error for KeyError {
    fn custom<T: fmt::Display>(_: T) -> Self {
        KeyError
    }
}

pub(super) struct KeySerializer<'a> {
    pub(super) out: &'a mut KeyBytes,
}

/// A sequence, tuple, map or struct being written; `count_at` is where its length goes when
/// serde did not know it at the start.
pub(super) struct Compound<'a> {
    out: &'a mut KeyBytes,
    count_at: Option<usize>,
    count: u64,
}

impl Compound<'_> {
    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), KeyError> {
        self.count += 1;
        value.serialize(KeySerializer {
            out: &mut *self.out,
        })
    }

    fn field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), KeyError> {
        self.out.push(&[1]);
        self.element(value)
    }

    fn finish(self) -> Result<(), KeyError> {
        if let Some(at) = self.count_at {
            self.out.patch_u64(at, self.count);
        }
        Ok(())
    }
}

impl<'a> KeySerializer<'a> {
    fn length(self, len: Option<usize>) -> Compound<'a> {
        let count_at = match len {
            Some(len) => {
                self.out.push(&(len as u64).to_le_bytes());
                None
            }
            None => {
                let at = self.out.position();
                self.out.push(&[0; 8]);
                Some(at)
            }
        };
        Compound {
            out: self.out,
            count_at,
            count: 0,
        }
    }

    fn fixed(self) -> Compound<'a> {
        Compound {
            out: self.out,
            count_at: None,
            count: 0,
        }
    }

    fn variant(self, index: u32) -> Compound<'a> {
        self.out.push(&index.to_le_bytes());
        self.fixed()
    }
}

macro_rules! fixed_width {
    ($($method:ident: $ty:ty),* $(,)?) => {
        $(
            #[inline]
            fn $method(self, v: $ty) -> Result<(), KeyError> {
                self.out.push(&v.to_le_bytes());
                Ok(())
            }
        )*
    };
}

impl<'a> ser::Serializer for KeySerializer<'a> {
    type Ok = ();
    type Error = KeyError;
    type SerializeSeq = Compound<'a>;
    type SerializeTuple = Compound<'a>;
    type SerializeTupleStruct = Compound<'a>;
    type SerializeTupleVariant = Compound<'a>;
    type SerializeMap = Compound<'a>;
    type SerializeStruct = Compound<'a>;
    type SerializeStructVariant = Compound<'a>;

    fixed_width! {
        serialize_i8: i8, serialize_i16: i16, serialize_i32: i32, serialize_i64: i64,
        serialize_i128: i128, serialize_u8: u8, serialize_u16: u16, serialize_u32: u32,
        serialize_u64: u64, serialize_u128: u128, serialize_f32: f32, serialize_f64: f64,
    }

    fn serialize_bool(self, v: bool) -> Result<(), KeyError> {
        self.out.push(&[u8::from(v)]);
        Ok(())
    }

    fn serialize_char(self, v: char) -> Result<(), KeyError> {
        self.serialize_u32(u32::from(v))
    }

    fn serialize_str(self, v: &str) -> Result<(), KeyError> {
        self.serialize_bytes(v.as_bytes())
    }

    fn serialize_bytes(self, v: &[u8]) -> Result<(), KeyError> {
        self.out.push(&(v.len() as u64).to_le_bytes());
        self.out.push(v);
        Ok(())
    }

    fn serialize_none(self) -> Result<(), KeyError> {
        self.out.push(&[0]);
        Ok(())
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), KeyError> {
        self.out.push(&[1]);
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<(), KeyError> {
        Ok(())
    }

    fn serialize_unit_struct(self, _: &'static str) -> Result<(), KeyError> {
        Ok(())
    }

    fn serialize_unit_variant(
        self,
        _: &'static str,
        index: u32,
        _: &'static str,
    ) -> Result<(), KeyError> {
        self.serialize_u32(index)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), KeyError> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        index: u32,
        _: &'static str,
        value: &T,
    ) -> Result<(), KeyError> {
        self.out.push(&index.to_le_bytes());
        value.serialize(self)
    }

    fn serialize_seq(self, len: Option<usize>) -> Result<Compound<'a>, KeyError> {
        Ok(self.length(len))
    }

    fn serialize_tuple(self, _: usize) -> Result<Compound<'a>, KeyError> {
        Ok(self.fixed())
    }

    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Compound<'a>, KeyError> {
        Ok(self.fixed())
    }

    fn serialize_tuple_variant(
        self,
        _: &'static str,
        index: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Compound<'a>, KeyError> {
        Ok(self.variant(index))
    }

    fn serialize_map(self, len: Option<usize>) -> Result<Compound<'a>, KeyError> {
        Ok(self.length(len))
    }

    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Compound<'a>, KeyError> {
        Ok(self.fixed())
    }

    fn serialize_struct_variant(
        self,
        _: &'static str,
        index: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Compound<'a>, KeyError> {
        Ok(self.variant(index))
    }

    /// `Display` output straight into the key, its length patched in afterwards.
    fn collect_str<T: fmt::Display + ?Sized>(self, value: &T) -> Result<(), KeyError> {
        let at = self.out.position();
        self.out.push(&[0; 8]);
        let mut writer = Writer {
            out: &mut *self.out,
            written: 0,
        };
        write!(writer, "{value}").map_err(|_| KeyError)?;
        let written = writer.written;
        self.out.patch_u64(at, written);
        Ok(())
    }

    fn is_human_readable(&self) -> bool {
        false
    }
}

struct Writer<'a> {
    out: &'a mut KeyBytes,
    written: u64,
}

impl fmt::Write for Writer<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.out.push(s.as_bytes());
        self.written += s.len() as u64;
        Ok(())
    }
}

/// The sequence-like compounds: each element in turn, then the length if it was not known.
macro_rules! elements {
    ($($trait:ident::$method:ident),* $(,)?) => {
        $(
            impl ser::$trait for Compound<'_> {
                type Ok = ();
                type Error = KeyError;
                fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), KeyError> {
                    self.element(value)
                }
                fn end(self) -> Result<(), KeyError> {
                    self.finish()
                }
            }
        )*
    };
}

elements!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field,
);

impl ser::SerializeMap for Compound<'_> {
    type Ok = ();
    type Error = KeyError;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), KeyError> {
        self.element(key)
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), KeyError> {
        // The entry was counted with its key.
        value.serialize(KeySerializer {
            out: &mut *self.out,
        })
    }
    fn end(self) -> Result<(), KeyError> {
        self.finish()
    }
}

/// The struct-like compounds: a presence byte before each field, a zero for a skipped one.
macro_rules! fields {
    ($($trait:ident),* $(,)?) => {
        $(
            impl ser::$trait for Compound<'_> {
                type Ok = ();
                type Error = KeyError;
                fn serialize_field<T: Serialize + ?Sized>(
                    &mut self,
                    _: &'static str,
                    value: &T,
                ) -> Result<(), KeyError> {
                    self.field(value)
                }
                fn skip_field(&mut self, _: &'static str) -> Result<(), KeyError> {
                    self.out.push(&[0]);
                    Ok(())
                }
                fn end(self) -> Result<(), KeyError> {
                    self.finish()
                }
            }
        )*
    };
}

fields!(SerializeStruct, SerializeStructVariant);
