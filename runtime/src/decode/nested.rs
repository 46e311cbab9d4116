//! The members of nested objects of a flat record, as fields named by their dotted paths
//! (`{"protoPayload": {"serviceName": "x"}}` gives `protoPayload.serviceName`), read only below the members that
//! start some dotted name a rule reads. A path naming an object itself reads as that object's value (its `#text`,
//! else null), as any field does.

use super::value::Key;
use super::Fields;
use crate::fields::{FieldId, Value};
use serde::de::{DeserializeSeed, Deserializer, Error, MapAccess, SeqAccess, Visitor};
use std::fmt;

/// A member at `path`: kept as the field `path` when a rule reads it (`id`), and read on below when some dotted
/// name starts with `path.`.
pub(super) struct Nested<'a, 't, 'e> {
    fields: &'a mut Fields<'t, 'e>,
    path: String,
    id: Option<(FieldId, bool)>,
    /// The object the member belongs to.
    object: u32,
    /// Whether the member is a record's own (its value is a flattened field) or below one (a dotted path).
    top: bool,
}

impl<'a, 't, 'e> Nested<'a, 't, 'e> {
    /// A member of the record's root object, named `key`, the field `id` for that name (`FieldTable::lookup`).
    pub(super) fn member(
        fields: &'a mut Fields<'t, 'e>,
        key: String,
        id: Option<(FieldId, bool)>,
        object: u32,
    ) -> Self {
        Nested { fields, path: key, id, object, top: true }
    }

    fn keep(self, value: Option<Value<'e>>) {
        let (Some((id, exact)), Some(value)) = (self.id, value) else { return };
        match (self.top, exact) {
            (true, true) => self.fields.rest.push((id, self.object, value)),
            (true, false) => self.fields.despaced.push((id, super::despaced(self.object), value)),
            (false, _) => self.fields.nested.push((id, self.object, value)),
        }
    }

    /// The member's value when it is not an object, read by `read` (and handed to the sink).
    fn scalar<E>(
        self,
        read: impl FnOnce(super::value::ValueVisitor<'_, 'e>) -> Result<Option<Value<'e>>, E>,
    ) -> Result<(), E> {
        let value = read(self.fields.value(self.id.is_some()).visitor())?;
        self.keep(value);
        Ok(())
    }
}

impl<'de: 'e, 'e> DeserializeSeed<'de> for Nested<'_, '_, 'e> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de: 'e, 'e> Visitor<'de> for Nested<'_, '_, 'e> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let object = self.fields.enter();
        let mut text = None;
        while let Some(key) = map.next_key_seed(Key)? {
            let path = format!("{}.{key}", self.path);
            if key == "#text" && self.id.is_some() {
                text = map.next_value_seed(self.fields.value(true))?;
                if let (Some(id), Some(value)) = (self.fields.table.get(&path), &text) {
                    self.fields.nested.push((id, object, value.duplicate()));
                }
            } else if self.fields.table.has_dotted_prefix(&path) {
                let id = self.fields.table.get(&path).map(|id| (id, true));
                map.next_value_seed(Nested { fields: &mut *self.fields, path, id, object, top: false })?;
            } else {
                let id = self.fields.table.get(&path);
                if let Some(value) = map.next_value_seed(self.fields.value(id.is_some()))? {
                    self.fields.nested.push((id.unwrap_or_default(), object, value));
                }
            }
        }
        // An object's value is its `#text`, else null (`Value::from_json`).
        let value = self.id.map(|_| text.unwrap_or(Value::Null));
        self.keep(value);
        Ok(())
    }
    fn visit_bool<E: Error>(self, b: bool) -> Result<(), E> {
        self.scalar(|v| v.visit_bool(b))
    }
    fn visit_unit<E: Error>(self) -> Result<(), E> {
        self.scalar(|v| v.visit_unit())
    }
    fn visit_i64<E: Error>(self, n: i64) -> Result<(), E> {
        self.scalar(|v| v.visit_i64(n))
    }
    fn visit_u64<E: Error>(self, n: u64) -> Result<(), E> {
        self.scalar(|v| v.visit_u64(n))
    }
    fn visit_f64<E: Error>(self, n: f64) -> Result<(), E> {
        self.scalar(|v| v.visit_f64(n))
    }
    fn visit_borrowed_str<E: Error>(self, s: &'de str) -> Result<(), E> {
        self.scalar(|v| v.visit_borrowed_str(s))
    }
    fn visit_str<E: Error>(self, s: &str) -> Result<(), E> {
        self.scalar(|v| v.visit_str(s))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        self.scalar(|v| v.visit_seq(seq))
    }
}
