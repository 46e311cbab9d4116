//! EVTX records as the `evtx` crate renders them: `{"Event": {"System": ..., "EventData": ..., "UserData": ...}}`
//! read into fields (the naming is written down in `decode/mod.rs`).

use super::value::{Key, ValueSeed, ValueVisitor};
use super::Fields;
use crate::fields::{FieldId, Value};
use serde::de::{DeserializeSeed, Deserializer, Error, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::fmt;

/// The sections of `Event`: whether there is a `System`.
pub(super) struct Sections<'a, 't, 'e>(pub(super) &'a mut Fields<'t, 'e>);

impl<'de: 'e, 'e> DeserializeSeed<'de> for Sections<'_, '_, 'e> {
    type Value = bool;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de: 'e, 'e> Visitor<'de> for Sections<'_, '_, 'e> {
    type Value = bool;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the sections of an EVTX record")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        let fields = self.0;
        let mut system = false;
        while let Some(key) = map.next_key_seed(Key)? {
            let kind = match key.as_ref() {
                "System" => Kind::System,
                "EventData" => Kind::EventData,
                "UserData" => Kind::UserData,
                _ => {
                    fields.skip(&mut map)?;
                    continue;
                }
            };
            system |= matches!(kind, Kind::System);
            map.next_value_seed(Section(&mut *fields, kind))?;
        }
        Ok(system)
    }
    // Any other value: not an EVTX record, read again as a flat object.
    fn visit_bool<E: Error>(self, _: bool) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_unit<E: Error>(self) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_i64<E: Error>(self, _: i64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_u64<E: Error>(self, _: u64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_f64<E: Error>(self, _: f64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_str<E: Error>(self, _: &str) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<bool, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(false)
    }
}

#[derive(Clone, Copy)]
enum Kind {
    System,
    EventData,
    UserData,
}

/// One section's fields (a section that is not an object has none).
struct Section<'a, 't, 'e>(&'a mut Fields<'t, 'e>, Kind);

impl<'de: 'e, 'e> DeserializeSeed<'de> for Section<'_, '_, 'e> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de: 'e, 'e> Visitor<'de> for Section<'_, '_, 'e> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a section of an EVTX record")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let Section(fields, kind) = self;
        let object = fields.enter();
        while let Some(key) = map.next_key_seed(Key)? {
            match kind {
                Kind::System => {
                    map.next_value_seed(MemberSeed(SystemMember { fields: &mut *fields, key: &key, object }))?
                }
                Kind::EventData => fields.member(&mut map, fields.table.lookup(&key), object)?,
                Kind::UserData => {
                    map.next_value_seed(MemberSeed(UserDataMember { fields: &mut *fields, key: &key, object }))?
                }
            }
        }
        Ok(())
    }
    no_fields_in_other_values!();
}

/// A `System` member: a value (`"Channel": "Security"`), or an element whose `#attributes` are fields of their
/// own (`Provider_Name` and `Name`) and whose `#text`, if any, is the member's value.
struct SystemMember<'a, 'k, 't, 'e> {
    fields: &'a mut Fields<'t, 'e>,
    key: &'k str,
    /// The System object.
    object: u32,
}

/// A `UserData` member: the one element named after the event kind, whose children are the fields (or, with a
/// `#text`, a value of its own).
struct UserDataMember<'a, 'k, 't, 'e> {
    fields: &'a mut Fields<'t, 'e>,
    key: &'k str,
    /// The UserData object.
    object: u32,
}

/// A section member: a value is kept under the member's name when a rule reads it; an object is read by `object`.
trait Member<'e>: Sized {
    /// A seed for the member's value.
    fn value(&mut self, wanted: bool) -> ValueSeed<'_, 'e>;
    fn id(&self) -> Option<FieldId>;
    fn keep(self, id: FieldId, value: Value<'e>);
    fn object<'de: 'e, A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error>;
}

impl<'e> Member<'e> for SystemMember<'_, '_, '_, 'e> {
    fn value(&mut self, wanted: bool) -> ValueSeed<'_, 'e> {
        self.fields.value(wanted)
    }
    fn id(&self) -> Option<FieldId> {
        self.fields.table.get(self.key)
    }
    fn keep(self, id: FieldId, value: Value<'e>) {
        self.fields.system.push((id, self.object, value));
    }
    fn object<'de: 'e, A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let id = self.id();
        let fields = self.fields;
        // The member's value is its `#text`, read from the member (the last one, as a JSON object keeps it).
        while let Some(part) = map.next_key_seed(Key)? {
            match part.as_ref() {
                "#attributes" => map.next_value_seed(Attributes { fields: &mut *fields, element: self.key })?,
                "#text" => {
                    if let Some(value) = map.next_value_seed(fields.value(id.is_some()))? {
                        fields.system.push((id.unwrap_or_default(), self.object, value));
                    }
                }
                _ => fields.skip(&mut map)?,
            }
        }
        Ok(())
    }
}

impl<'e> Member<'e> for UserDataMember<'_, '_, '_, 'e> {
    fn value(&mut self, wanted: bool) -> ValueSeed<'_, 'e> {
        self.fields.value(wanted)
    }
    fn id(&self) -> Option<FieldId> {
        self.fields.table.get(self.key)
    }
    fn keep(self, id: FieldId, value: Value<'e>) {
        self.fields.rest.push((id, self.object, value));
    }
    fn object<'de: 'e, A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        // Whether the element has a `#text` is known only at its end: its children are held until then.
        let id = self.id();
        let fields = self.fields;
        let element = fields.enter();
        let (mut children, mut despaced) = (Vec::new(), Vec::new());
        let mut text = None;
        while let Some(key) = map.next_key_seed(Key)? {
            match key.as_ref() {
                "#attributes" => fields.skip(&mut map)?,
                "#text" => text = Some(map.next_value_seed(fields.value(id.is_some()))?),
                _ => {
                    let child = fields.table.lookup(&key);
                    if let Some(value) = map.next_value_seed(fields.value(child.is_some()))? {
                        match child.unwrap_or_default() {
                            (child, true) => children.push((child, element, value)),
                            (child, false) => despaced.push((child, super::despaced(element), value)),
                        }
                    }
                }
            }
        }
        match (text, id) {
            (None, _) => {
                fields.rest.extend(children);
                fields.despaced.extend(despaced);
            }
            (Some(value), Some(id)) => fields.rest.push((id, self.object, value.unwrap_or(Value::Null))),
            (Some(_), None) => {}
        }
        Ok(())
    }
}

/// Reads a member with [`Member`].
struct MemberSeed<M>(M);

impl<'de: 'e, 'e, M: Member<'e>> DeserializeSeed<'de> for MemberSeed<M> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'e, M: Member<'e>> MemberSeed<M> {
    /// A value that is not an object: kept when a rule reads the member.
    fn scalar<E>(mut self, read: impl FnOnce(ValueVisitor<'_, 'e>) -> Result<Option<Value<'e>>, E>) -> Result<(), E> {
        let id = self.0.id();
        if let Some(value) = read(self.0.value(id.is_some()).visitor())? {
            if let Some(id) = id {
                self.0.keep(id, value);
            }
        }
        Ok(())
    }
}

impl<'de: 'e, 'e, M: Member<'e>> Visitor<'de> for MemberSeed<M> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a member of an EVTX record section")
    }
    fn visit_bool<E: Error>(self, b: bool) -> Result<(), E> {
        self.scalar(|v| v.visit_bool(b))
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
    fn visit_unit<E: Error>(self) -> Result<(), E> {
        self.scalar(|v| v.visit_unit())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        self.scalar(|v| v.visit_seq(seq))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        self.0.object(map)
    }
}

/// The `#attributes` of a `System` element: each is a field by two names, `Element_Attribute` and `Attribute`
/// (`TimeCreated.SystemTime` is read as `SystemTime`).
struct Attributes<'a, 'k, 't, 'e> {
    fields: &'a mut Fields<'t, 'e>,
    element: &'k str,
}

impl<'de: 'e, 'e> DeserializeSeed<'de> for Attributes<'_, '_, '_, 'e> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de: 'e, 'e> Visitor<'de> for Attributes<'_, '_, '_, 'e> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the attributes of an EVTX element")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let fields = self.fields;
        let object = fields.enter();
        let long_names = fields.table.has_underscored(self.element);
        while let Some(attribute) = map.next_key_seed(Key)? {
            let long = long_names
                .then(|| {
                    fields.name.clear();
                    fields.name.push_str(self.element);
                    fields.name.push('_');
                    fields.name.push_str(&attribute);
                    fields.table.get(&fields.name)
                })
                .flatten();
            let short = fields.table.get(&attribute);
            if let Some(value) = map.next_value_seed(fields.value(long.is_some() || short.is_some()))? {
                match (long, short) {
                    (Some(long), Some(short)) => {
                        fields.system.push((long, object, value.duplicate()));
                        fields.system.push((short, object, value));
                    }
                    (Some(id), None) | (None, Some(id)) => fields.system.push((id, object, value)),
                    (None, None) => {}
                }
            }
        }
        Ok(())
    }
    // Not an object: no attributes.
    no_fields_in_other_values!();
}
