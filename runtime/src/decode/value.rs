//! One field value, read as [`Value::from_json`] reads the same JSON (with its strings and numbers handed to the
//! sink), and object keys.

use super::Sink;
use crate::fields::{Folded, NumberText, Value};
use serde::de::{DeserializeSeed, Deserializer, Error, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::borrow::Cow;
use std::fmt;

/// A field's value, read as [`Value::from_json`] reads the same JSON: `Some` when `wanted`; every string and
/// number in it also goes to the sink, if there is one.
pub(super) struct ValueSeed<'a, 'e> {
    wanted: bool,
    sink: Option<&'a mut Sink<'a>>,
    text: std::marker::PhantomData<&'e str>,
}

impl<'a, 'e> ValueSeed<'a, 'e> {
    /// A seed for a value, decoded when `wanted`; its strings and numbers go to `sink` either way.
    pub(super) fn new(wanted: bool, sink: Option<&'a mut Sink<'a>>) -> Self {
        ValueSeed { wanted, sink, text: std::marker::PhantomData }
    }

    pub(super) fn visitor(self) -> ValueVisitor<'a, 'e> {
        ValueVisitor { wanted: self.wanted, sink: self.sink, text: std::marker::PhantomData }
    }
}

impl<'de: 'e, 'e> DeserializeSeed<'de> for ValueSeed<'_, 'e> {
    type Value = Option<Value<'e>>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        if self.wanted || self.sink.is_some() {
            d.deserialize_any(self.visitor())
        } else {
            d.deserialize_ignored_any(IgnoredAny).map(|_| None)
        }
    }
}

pub(super) struct ValueVisitor<'a, 'e> {
    wanted: bool,
    sink: Option<&'a mut Sink<'a>>,
    text: std::marker::PhantomData<&'e str>,
}

impl<'e> ValueVisitor<'_, 'e> {
    /// A string or number: handed to the sink, and returned when wanted.
    fn scalar(self, value: Value<'e>) -> Option<Value<'e>> {
        if let Some(sink) = self.sink {
            sink(&value);
        }
        self.wanted.then_some(value)
    }

    /// A string that holds escapes (unescaped into a buffer of the parser's): copied only when wanted.
    fn transient(self, s: &str) -> Option<Value<'e>> {
        if self.wanted {
            return self.scalar(Value::Str(Cow::Owned(s.to_string()), Folded::default()));
        }
        if let Some(sink) = self.sink {
            sink(&Value::Str(Cow::Borrowed(s), Folded::default()));
        }
        None
    }

    fn number(self, n: f64, number: Option<serde_json::Number>) -> Option<Value<'e>> {
        // serde_json reads only finite numbers, which `Number` holds.
        number.and_then(|number| self.scalar(Value::Num(n, NumberText::new(number))))
    }

    /// A seed for an element of this value, read the same way.
    fn element(&mut self, wanted: bool) -> ValueSeed<'_, 'e> {
        ValueSeed { wanted, sink: self.sink.as_deref_mut().map(|s| s as &mut Sink<'_>), text: std::marker::PhantomData }
    }
}

impl<'de: 'e, 'e> Visitor<'de> for ValueVisitor<'_, 'e> {
    type Value = Option<Value<'e>>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E: Error>(self, b: bool) -> Result<Self::Value, E> {
        Ok(self.wanted.then_some(Value::Bool(b)))
    }
    fn visit_i64<E: Error>(self, n: i64) -> Result<Self::Value, E> {
        Ok(self.number(n as f64, Some(n.into())))
    }
    fn visit_u64<E: Error>(self, n: u64) -> Result<Self::Value, E> {
        Ok(self.number(n as f64, Some(n.into())))
    }
    fn visit_f64<E: Error>(self, n: f64) -> Result<Self::Value, E> {
        Ok(self.number(n, serde_json::Number::from_f64(n)))
    }
    fn visit_borrowed_str<E: Error>(self, s: &'de str) -> Result<Self::Value, E> {
        Ok(self.scalar(Value::Str(Cow::Borrowed(s), Folded::default())))
    }
    fn visit_str<E: Error>(self, s: &str) -> Result<Self::Value, E> {
        Ok(self.transient(s))
    }
    fn visit_unit<E: Error>(self) -> Result<Self::Value, E> {
        Ok(self.wanted.then_some(Value::Null))
    }
    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<Self::Value, A::Error> {
        let wanted = self.wanted;
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(self.element(wanted))? {
            items.extend(wanted.then(|| item.unwrap_or(Value::Null)));
        }
        Ok(wanted.then_some(Value::List(items)))
    }
    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<Self::Value, A::Error> {
        // `{"#text": 4688, "#attributes": {...}}` is the value 4688; an object without `#text` is null.
        let wanted = self.wanted;
        let mut text = None;
        while let Some(key) = map.next_key_seed(Key)? {
            let seed = self.element(wanted && key == "#text");
            if key == "#text" {
                text = map.next_value_seed(seed)?;
            } else {
                map.next_value_seed(seed)?;
            }
        }
        Ok(wanted.then(|| text.unwrap_or(Value::Null)))
    }
}

/// An object key, borrowed from the text unless it holds escapes.
pub(super) struct Key;

impl<'de> DeserializeSeed<'de> for Key {
    type Value = Cow<'de, str>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Key {
    type Value = Cow<'de, str>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }
    fn visit_borrowed_str<E: Error>(self, s: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(s))
    }
    fn visit_str<E: Error>(self, s: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(s.to_string()))
    }
}
