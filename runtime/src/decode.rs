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
//! fields. When some rule reads a dotted path (`Event.System.Channel`, `protoPayload.serviceName`), the tree is
//! also walked by path, and those names come after the flattened ones.

use crate::fields::{FieldId, FieldTable, Folded, NumberText, Value};
use serde::de::{DeserializeSeed, Deserializer, Error, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::borrow::Cow;
use std::fmt;

/// Receives every string and number of a record as it is read (what
/// [`Event::all_values`](crate::event::Event::all_values) lists, and more when a key repeats).
pub(crate) type Sink<'s> = dyn FnMut(&Value<'_>) + 's;

/// A field as read: its id, the object it was read from (numbered in reading order), its value.
type Read<'e> = (FieldId, u32, Value<'e>);

/// The fields of a record, sorted by id.
pub(crate) type FieldValues<'e> = Vec<(FieldId, Value<'e>)>;

/// Reads one record's JSON text: the fields `table` names, handing every string and number to `sink` if there is
/// one; `None` when the text is not JSON.
pub(crate) fn from_text<'e>(
    text: &'e str,
    table: &FieldTable,
    mut sink: Option<&mut Sink<'_>>,
) -> Option<FieldValues<'e>> {
    let read = |layout: Layout, sink: Option<&mut Sink<'_>>| {
        let mut deserializer = serde_json::Deserializer::from_str(text);
        let decoded = fields(&mut deserializer, table, sink, layout).ok()?;
        deserializer.end().ok()?;
        Some(decoded)
    };
    match read(Layout::Recognise, sink.as_deref_mut())? {
        Some(fields) => Some(fields),
        None => read(Layout::Flat, sink)?,
    }
}

/// Reads one record's JSON tree, as [`from_text`] reads its text.
pub(crate) fn from_tree<'e>(json: &'e serde_json::Value, table: &FieldTable) -> FieldValues<'e> {
    let read = |layout| fields(json, table, None, layout).ok().flatten();
    let mut decoded = read(Layout::Recognise).or_else(|| read(Layout::Flat)).unwrap_or_default();
    if table.has_dotted() {
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
    sink: Option<&mut Sink<'_>>,
    layout: Layout,
) -> Result<Option<FieldValues<'e>>, D::Error> {
    let sink = sink.map(|s| s as &mut Sink<'_>);
    let mut fields = Fields { table, system: Vec::new(), rest: Vec::new(), sink, name: String::new(), objects: 0 };
    let shape = Root(&mut fields, layout).deserialize(input)?;
    if shape == Shape::Other {
        return Ok(None);
    }
    let Fields { mut system, rest, .. } = fields;
    system.extend(rest);
    Ok(Some(kept(system)))
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
    sink: Option<&'t mut Sink<'t>>,
    /// Reused for `Key_attribute` names.
    name: String,
    /// Objects entered so far.
    objects: u32,
}

impl<'e> Fields<'_, 'e> {
    /// A seed for a value, decoded when `wanted` (and handed to the sink either way).
    fn value(&mut self, wanted: bool) -> ValueSeed<'_, 'e> {
        ValueSeed { wanted, sink: self.sink.as_deref_mut().map(|s| s as &mut Sink<'_>), text: std::marker::PhantomData }
    }

    /// Skips a map's next value (handing it to the sink).
    fn skip<'de: 'e, A: MapAccess<'de>>(&mut self, map: &mut A) -> Result<(), A::Error> {
        map.next_value_seed(self.value(false)).map(drop)
    }

    /// The number of an object being entered.
    fn enter(&mut self) -> u32 {
        self.objects += 1;
        self.objects
    }
}

/// The `visit_*` methods of a visitor that reads objects only: any other value has no fields, and its strings and
/// numbers go to the sink (through `$fields`, the visitor's [`Fields`]).
macro_rules! other_values_to_sink {
    ($this:ident => $fields:expr) => {
        fn visit_bool<E: Error>(self, _: bool) -> Result<(), E> {
            Ok(())
        }
        fn visit_unit<E: Error>(self) -> Result<(), E> {
            Ok(())
        }
        fn visit_i64<E: Error>(self, n: i64) -> Result<(), E> {
            let $this = self;
            $fields.value(false).visitor().visit_i64(n).map(drop)
        }
        fn visit_u64<E: Error>(self, n: u64) -> Result<(), E> {
            let $this = self;
            $fields.value(false).visitor().visit_u64(n).map(drop)
        }
        fn visit_f64<E: Error>(self, n: f64) -> Result<(), E> {
            let $this = self;
            $fields.value(false).visitor().visit_f64(n).map(drop)
        }
        fn visit_borrowed_str<E: Error>(self, s: &'de str) -> Result<(), E> {
            let $this = self;
            $fields.value(false).visitor().visit_borrowed_str(s).map(drop)
        }
        fn visit_str<E: Error>(self, s: &str) -> Result<(), E> {
            let $this = self;
            $fields.value(false).visitor().visit_str(s).map(drop)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
            let $this = self;
            $fields.value(false).visitor().visit_seq(seq).map(drop)
        }
    };
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
                let id = fields.table.get(&key);
                if let Some(value) = map.next_value_seed(fields.value(id.is_some()))? {
                    fields.rest.push((id.unwrap_or_default(), object, value));
                }
            }
            first = false;
        }
        Ok(shape)
    }
    // A root that is not an object: no fields; its strings and numbers still go to the sink.
    fn visit_bool<E: Error>(self, _: bool) -> Result<Shape, E> {
        Ok(Shape::Flat)
    }
    fn visit_unit<E: Error>(self) -> Result<Shape, E> {
        Ok(Shape::Flat)
    }
    fn visit_i64<E: Error>(self, n: i64) -> Result<Shape, E> {
        self.0.value(false).visitor().visit_i64(n).map(|_| Shape::Flat)
    }
    fn visit_u64<E: Error>(self, n: u64) -> Result<Shape, E> {
        self.0.value(false).visitor().visit_u64(n).map(|_| Shape::Flat)
    }
    fn visit_f64<E: Error>(self, n: f64) -> Result<Shape, E> {
        self.0.value(false).visitor().visit_f64(n).map(|_| Shape::Flat)
    }
    fn visit_borrowed_str<E: Error>(self, s: &'de str) -> Result<Shape, E> {
        self.0.value(false).visitor().visit_borrowed_str(s).map(|_| Shape::Flat)
    }
    fn visit_str<E: Error>(self, s: &str) -> Result<Shape, E> {
        self.0.value(false).visitor().visit_str(s).map(|_| Shape::Flat)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Shape, A::Error> {
        self.0.value(false).visitor().visit_seq(seq).map(|_| Shape::Flat)
    }
}

/// The sections of `Event`: whether there is a `System`.
struct Sections<'a, 't, 'e>(&'a mut Fields<'t, 'e>);

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
    // Any other value: not an EVTX record, read again as a flat object (its values reach the sink then).
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

/// One section's fields (a section that is not an object has none; its values are still collected).
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
                Kind::EventData => {
                    let id = fields.table.get(&key);
                    if let Some(value) = map.next_value_seed(fields.value(id.is_some()))? {
                        fields.rest.push((id.unwrap_or_default(), object, value));
                    }
                }
                Kind::UserData => {
                    map.next_value_seed(MemberSeed(UserDataMember { fields: &mut *fields, key: &key, object }))?
                }
            }
        }
        Ok(())
    }
    other_values_to_sink!(section => section.0);
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
        let mut children = Vec::new();
        let mut text = None;
        while let Some(key) = map.next_key_seed(Key)? {
            match key.as_ref() {
                "#attributes" => fields.skip(&mut map)?,
                "#text" => text = Some(map.next_value_seed(fields.value(id.is_some()))?),
                _ => {
                    let child = fields.table.get(&key);
                    if let Some(value) = map.next_value_seed(fields.value(child.is_some()))? {
                        children.push((child.unwrap_or_default(), element, value));
                    }
                }
            }
        }
        match (text, id) {
            (None, _) => fields.rest.extend(children),
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
    other_values_to_sink!(attributes => attributes.fields);
}

/// A field's value, read as [`Value::from_json`] reads the same JSON: `Some` when `wanted`; every string and
/// number in it also goes to the sink, if there is one.
struct ValueSeed<'a, 'e> {
    wanted: bool,
    sink: Option<&'a mut Sink<'a>>,
    text: std::marker::PhantomData<&'e str>,
}

impl<'a, 'e> ValueSeed<'a, 'e> {
    fn visitor(self) -> ValueVisitor<'a, 'e> {
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

struct ValueVisitor<'a, 'e> {
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
struct Key;

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
