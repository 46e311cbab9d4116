//! Decoders: a record's fields, read in one pass from its JSON text or from its JSON tree, by the same serde
//! visitor, so both give the same fields by construction. From text, the JSON tree is never built (building the
//! tree of a Mordor line costs about as much as the prefilter and the rules together, and that of an EVTX record
//! as much as rendering it: `bench/matcher.sh`, `bench/evtx.sh`): only the fields some rule reads are decoded,
//! their strings borrowed from the text unless they hold escapes; the rest is only checked to be JSON, or handed
//! to a sink that wants every value (the prefilter's keyword facts, which then need no list of the record's
//! values).
//!
//! How records are flattened to Sigma field names (the one place it is written): a flat object's members are
//! fields; an EVTX record (`{"Event": {"System": ...}}`, the only member of its object) gives `Event.System.X` as
//! `X`, its `#attributes` as `X_Attr` and `Attr`, `{"#text": v, ...}` as `v`, `Event.EventData.X` as `X`,
//! `Event.UserData.<Kind>.X` as `X`. When one name is read twice, the first object to give it wins (System's over
//! EventData's), and within one object the last value of a repeated key (as a JSON object keeps it). A root that
//! starts like an EVTX record but is not one is read again as a flat object; a root that is not an object has no
//! fields. A member whose name has spaces (`Threat Name`, as Windows Defender writes it) is also the field of that
//! name without them (`ThreatName`, as SigmaHQ rules write field names), after a member of that exact name. The
//! members of nested objects of a flat record are fields by their dotted paths (`protoPayload.serviceName`), read
//! only where some rule reads such a path (`nested.rs`), after the flattened names; dotted paths into an EVTX
//! record (`Event.System.Channel`) are read from its tree.

use crate::fields::{FieldId, FieldTable, Value};
use evtx::Sections;
use serde::de::{DeserializeSeed, Deserializer, Error, MapAccess, SeqAccess, Visitor};
use std::fmt;
use value::{Key, ValueSeed};

/// The `visit_*` methods of a visitor that reads objects only: any other value has no fields.
macro_rules! no_fields_in_other_values {
    () => {
        fn visit_bool<E: Error>(self, _: bool) -> Result<(), E> {
            Ok(())
        }
        fn visit_unit<E: Error>(self) -> Result<(), E> {
            Ok(())
        }
        fn visit_i64<E: Error>(self, _: i64) -> Result<(), E> {
            Ok(())
        }
        fn visit_u64<E: Error>(self, _: u64) -> Result<(), E> {
            Ok(())
        }
        fn visit_f64<E: Error>(self, _: f64) -> Result<(), E> {
            Ok(())
        }
        fn visit_str<E: Error>(self, _: &str) -> Result<(), E> {
            Ok(())
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
            while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
            Ok(())
        }
    };
}

mod evtx;
mod nested;
mod value;

/// Receives every string and number of a record as it is read (what
/// [`Event::all_values`](crate::event::Event::all_values) lists, and more when a key repeats): how the prefilter's
/// keyword facts meet a record's text without a list of its values.
pub(crate) type Sink<'s> = dyn FnMut(&Value<'_>) + 's;

/// A field as read: its id, the object it was read from (numbered in reading order), its value.
type Read<'e> = (FieldId, u32, Value<'e>);

/// The fields of a record, sorted by id.
pub(crate) type FieldValues<'e> = Vec<(FieldId, Value<'e>)>;

/// Reads one record's JSON text: the fields `table` names; `None` when the text is not JSON.
pub(crate) fn from_text<'e>(text: &'e str, table: &FieldTable) -> Option<FieldValues<'e>> {
    let read = |layout: Layout| {
        let mut deserializer = serde_json::Deserializer::from_str(text);
        let decoded = fields(&mut deserializer, table, layout).ok()?;
        deserializer.end().ok()?;
        Some(decoded)
    };
    match read(Layout::Recognise)? {
        Some(fields) => Some(fields),
        None => read(Layout::Flat)?,
    }
}

/// Hands every string and number of a record's JSON text to `sink`; `false` when the text is not JSON.
pub(crate) fn visit_values(text: &str, sink: &mut Sink<'_>) -> bool {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    ValueSeed::new(false, Some(sink)).deserialize(&mut deserializer).is_ok() && deserializer.end().is_ok()
}

/// Reads one record's JSON tree, as [`from_text`] reads its text.
pub(crate) fn from_tree<'e>(json: &'e serde_json::Value, table: &FieldTable) -> FieldValues<'e> {
    let read = |layout| fields(json, table, layout).ok().flatten();
    let mut decoded = read(Layout::Recognise).or_else(|| read(Layout::Flat)).unwrap_or_default();
    if reads_evtx_paths(table) {
        let mut dotted = Vec::new();
        walk_paths(json, &mut String::new(), table, &mut dotted);
        if !dotted.is_empty() {
            // The flattened value of a name comes first and wins.
            decoded.extend(dotted);
            decoded.sort_by_key(|(id, _)| *id);
            decoded.dedup_by_key(|(id, _)| *id);
        }
    }
    decoded
}

/// Whether some rule reads a dotted path into an EVTX record (`Event.System.Channel`), which only a record's tree
/// gives.
pub(crate) fn reads_evtx_paths(table: &FieldTable) -> bool {
    table.has_dotted_prefix("Event")
}

/// Every member of every object below the root, by its dotted path.
fn walk_paths<'e>(json: &'e serde_json::Value, path: &mut String, table: &FieldTable, out: &mut FieldValues<'e>) {
    let serde_json::Value::Object(map) = json else { return };
    for (key, value) in map {
        let len = path.len();
        if !path.is_empty() {
            path.push('.');
        }
        path.push_str(key);
        if len > 0 {
            if let Some(id) = table.get(path) {
                out.push((id, Value::from_json(value)));
            }
        }
        if value.is_object() {
            walk_paths(value, path, table, out);
        }
        path.truncate(len);
    }
}

/// How a record's root object is read.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Layout {
    /// An EVTX record if it is one, else a flat object (`None`: read it again as [`Layout::Flat`]).
    Recognise,
    /// Every member is a field.
    Flat,
}

/// The fields of a record; `Ok(None)` when [`Layout::Recognise`] found the root to be neither flat nor EVTX.
fn fields<'de: 'e, 'e, D: Deserializer<'de>>(
    input: D,
    table: &FieldTable,
    layout: Layout,
) -> Result<Option<FieldValues<'e>>, D::Error> {
    let mut fields = Fields {
        table,
        system: Vec::new(),
        rest: Vec::new(),
        despaced: Vec::new(),
        nested: Vec::new(),
        name: String::new(),
        objects: 0,
    };
    let shape = Root(&mut fields, layout).deserialize(input)?;
    if shape == Shape::Other {
        return Ok(None);
    }
    let Fields { mut system, rest, despaced, nested, .. } = fields;
    system.extend(rest);
    system.extend(despaced);
    system.extend(nested);
    Ok(Some(kept(system)))
}

/// The object number under which a member read by its name without spaces is kept: another object than the one
/// it is in, so that a member of the exact name in that object wins (`kept`: the first object to give a name).
fn despaced(object: u32) -> u32 {
    object | 1 << 31
}

/// The value each field keeps: that of the first object to give it, and within that object the last.
fn kept(mut read: Vec<Read<'_>>) -> Vec<(FieldId, Value<'_>)> {
    // The (small) keys are sorted, in reading order within each field, and each value is moved once.
    let mut order: Vec<(FieldId, u32)> = read.iter().enumerate().map(|(at, (id, _, _))| (*id, at as u32)).collect();
    order.sort_unstable();
    let mut take = |at: u32| {
        let (_, object, value) = &mut read[at as usize];
        (*object, std::mem::replace(value, Value::Null))
    };
    let mut out = Vec::with_capacity(order.len());
    let mut order = order.into_iter().peekable();
    while let Some((id, at)) = order.next() {
        let (object, mut value) = take(at);
        while let Some((_, later)) = order.next_if(|(next, _)| *next == id) {
            let (other, later) = take(later);
            if other == object {
                value = later;
            }
        }
        out.push((id, value));
    }
    out
}

struct Fields<'t, 'e> {
    table: &'t FieldTable,
    /// The fields of an EVTX record's System section (they win over the others).
    system: Vec<Read<'e>>,
    rest: Vec<Read<'e>>,
    /// Fields read by a member's name without its spaces (they lose to a member of the exact name).
    despaced: Vec<Read<'e>>,
    /// Fields read by a dotted path into a nested object (they lose to the flattened names).
    nested: Vec<Read<'e>>,
    /// Reused for `Key_attribute` names.
    name: String,
    /// Objects entered so far.
    objects: u32,
}

impl<'e> Fields<'_, 'e> {
    /// A seed for a value, decoded when `wanted`.
    fn value(&mut self, wanted: bool) -> ValueSeed<'_, 'e> {
        ValueSeed::new(wanted, None)
    }

    /// Skips a map's next value.
    fn skip<'de: 'e, A: MapAccess<'de>>(&mut self, map: &mut A) -> Result<(), A::Error> {
        map.next_value_seed(self.value(false)).map(drop)
    }

    /// Reads the next value of `map`, a member of object `object`, as the field `found` for its name (that name,
    /// or that name without its spaces: [`FieldTable::lookup`]) if a rule reads it.
    fn member<'de: 'e, A: MapAccess<'de>>(
        &mut self,
        map: &mut A,
        found: Option<(FieldId, bool)>,
        object: u32,
    ) -> Result<(), A::Error> {
        if let Some(value) = map.next_value_seed(self.value(found.is_some()))? {
            match found.unwrap_or_default() {
                (id, true) => self.rest.push((id, object, value)),
                (id, false) => self.despaced.push((id, despaced(object), value)),
            }
        }
        Ok(())
    }

    /// The number of an object being entered.
    fn enter(&mut self) -> u32 {
        self.objects += 1;
        self.objects
    }
}

/// How a record's fields are named.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Shape {
    /// A flat object: each member is a field.
    Flat,
    /// `{"Event": {"System": ..., "EventData": ...}}`.
    Evtx,
    /// Starts like an EVTX record but is not one: read again as [`Layout::Flat`].
    Other,
}

/// A record: its shape, its fields read into `Fields` as `Layout` says.
struct Root<'a, 't, 'e>(&'a mut Fields<'t, 'e>, Layout);

impl<'de: 'e, 'e> DeserializeSeed<'de> for Root<'_, '_, 'e> {
    type Value = Shape;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Shape, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de: 'e, 'e> Visitor<'de> for Root<'_, '_, 'e> {
    type Value = Shape;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Shape, A::Error> {
        let Root(fields, layout) = self;
        let object = fields.enter();
        let mut shape = Shape::Flat;
        let mut first = true;
        while let Some(key) = map.next_key_seed(Key)? {
            if first && key == "Event" && layout == Layout::Recognise {
                // An EVTX record, if `Event` holds a System section and is the only member.
                shape = if map.next_value_seed(Sections(&mut *fields))? { Shape::Evtx } else { Shape::Other };
            } else if shape != Shape::Flat {
                shape = Shape::Other;
                fields.skip(&mut map)?;
            } else {
                match fields.table.lookup_member(&key) {
                    (found, true) => {
                        map.next_value_seed(nested::Nested::member(&mut *fields, key.into_owned(), found, object))?
                    }
                    (found, false) => fields.member(&mut map, found, object)?,
                }
            }
            first = false;
        }
        Ok(shape)
    }
    // A root that is not an object: no fields.
    fn visit_bool<E: Error>(self, _: bool) -> Result<Shape, E> {
        Ok(Shape::Flat)
    }
    fn visit_unit<E: Error>(self) -> Result<Shape, E> {
        Ok(Shape::Flat)
    }
    fn visit_i64<E: Error>(self, _: i64) -> Result<Shape, E> {
        Ok(Shape::Flat)
    }
    fn visit_u64<E: Error>(self, _: u64) -> Result<Shape, E> {
        Ok(Shape::Flat)
    }
    fn visit_f64<E: Error>(self, _: f64) -> Result<Shape, E> {
        Ok(Shape::Flat)
    }
    fn visit_str<E: Error>(self, _: &str) -> Result<Shape, E> {
        Ok(Shape::Flat)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Shape, A::Error> {
        while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
        Ok(Shape::Flat)
    }
}
