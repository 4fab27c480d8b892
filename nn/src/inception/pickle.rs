//! A whitelist interpreter for the pickle (`data.pkl`) inside a TorchScript
//! archive: it rebuilds tensor references and the module tree from exactly the
//! opcodes and globals such a file uses, and never calls anything it names.
//!
//! Mutable containers live in an arena and the stack and memo hold handles to
//! them, so a container changed after it was memoized (the usual pickle pattern)
//! is seen the same everywhere, and no input can make the reader copy a
//! structure over and over. The tree handed out is built at the end, with limits
//! on depth and size that also reject self-referencing containers.

use std::collections::HashMap;
use std::fmt;
use std::rc::Rc;

/// A decoded pickle value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    None,
    Bool(bool),
    Int(i64),
    Str(String),
    Tuple(Vec<Value>),
    List(Vec<Value>),
    /// Key-value pairs in file order (`dict` and `OrderedDict`).
    Dict(Vec<(Value, Value)>),
    Tensor(TensorRef),
    /// A TorchScript module object: its class (`module.Name`) and the state
    /// dict given to it by BUILD, in file order.
    Object(Object),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Object {
    pub class: String,
    pub state: Vec<(String, Value)>,
}

impl Object {
    /// The attribute `name` of the state dict.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.state.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    /// The class name without its module (`Conv2dLayer` of
    /// `__torch__.inceptionv3.___torch_mangle_2.Conv2dLayer`).
    pub fn class_name(&self) -> &str {
        self.class.rsplit('.').next().unwrap_or(&self.class)
    }
}

/// Element types of storages the reader accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StorageType {
    Float,
}

/// A storage named by a persistent id: its bytes are the archive entry
/// `data/<key>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageRef {
    pub key: String,
    pub dtype: StorageType,
    pub location: String,
    pub numel: usize,
}

/// `torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorRef {
    pub storage: StorageRef,
    pub offset: usize,
    pub shape: Vec<usize>,
    pub stride: Vec<usize>,
}

/// Why a pickle was rejected.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PickleErrorKind {
    #[error("opcode 0x{code:02x} ({name}) is not allowed: only the opcodes of a TorchScript module pickle are read")]
    Opcode { code: u8, name: &'static str },
    #[error("global `{0}` is not allowed: only tensors, OrderedDict, int lists and the Inception module classes are rebuilt")]
    Global(String),
    #[error("unexpected end of data while reading {0}")]
    Truncated(&'static str),
    #[error("{0}")]
    Malformed(String),
}

/// A pickle that cannot be read, with the file, the byte offset of the opcode
/// and the reason.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{file}: pickle byte {offset}: {kind}")]
pub struct PickleError {
    pub file: String,
    pub offset: usize,
    pub kind: PickleErrorKind,
}

/// Nesting deeper than this is rejected (TorchScript module trees are < 10 deep).
const MAX_DEPTH: usize = 128;
/// Values in the built tree, at most (the Inception pickle has about 3000).
const MAX_VALUES: usize = 1 << 20;
/// Memo slots, at most.
const MAX_MEMO: usize = 1 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Global {
    OrderedDict,
    FloatStorage,
    RebuildTensorV2,
    BuildIntlist,
}

#[derive(Debug, Clone)]
enum Item {
    None,
    Bool(bool),
    Int(i64),
    Str(Rc<str>),
    /// A container in the arena.
    Node(usize),
    Global(Global),
    /// A module class, by its full name.
    Class(Rc<str>),
    Storage(Rc<StorageRef>),
    Tensor(Rc<TensorRef>),
}

enum Node {
    Tuple(Vec<Item>),
    List(Vec<Item>),
    Dict(Vec<(Item, Item)>),
    Object { class: Rc<str>, state: Option<Item> },
}

/// The module classes of the Inception TorchScript file, by module (with or
/// without a `.___torch_mangle_N` suffix) and class name.
const MODULE_CLASSES: &[(&str, &[&str])] = &[
    ("__torch__.wrap_net", &["WrapNet"]),
    (
        "__torch__.inceptionv3",
        &[
            "InceptionV3",
            "Conv2dLayer",
            "InceptionA",
            "InceptionB",
            "InceptionC",
            "InceptionD",
            "InceptionE",
        ],
    ),
    ("__torch__.torch.nn.modules.container", &["Sequential"]),
    (
        "__torch__.torch.nn.modules.pooling",
        &["MaxPool2d", "AvgPool2d"],
    ),
];

fn strip_mangle(module: &str) -> &str {
    match module.rsplit_once(".___torch_mangle_") {
        Some((base, n)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => base,
        _ => module,
    }
}

fn resolve_global(module: &str, name: &str) -> Option<Item> {
    match (module, name) {
        ("collections", "OrderedDict") => return Some(Item::Global(Global::OrderedDict)),
        ("torch", "FloatStorage") => return Some(Item::Global(Global::FloatStorage)),
        ("torch._utils", "_rebuild_tensor_v2") => {
            return Some(Item::Global(Global::RebuildTensorV2))
        }
        ("torch.jit._pickle", "build_intlist") => return Some(Item::Global(Global::BuildIntlist)),
        _ => {}
    }
    let base = strip_mangle(module);
    MODULE_CLASSES
        .iter()
        .any(|(m, names)| *m == base && names.contains(&name))
        .then(|| Item::Class(format!("{module}.{name}").into()))
}

fn opcode_name(code: u8) -> &'static str {
    match code {
        b'(' => "MARK",
        b'.' => "STOP",
        b'0' => "POP",
        b'1' => "POP_MARK",
        b'2' => "DUP",
        b'F' => "FLOAT",
        b'I' => "INT",
        b'J' => "BININT",
        b'K' => "BININT1",
        b'L' => "LONG",
        b'M' => "BININT2",
        b'N' => "NONE",
        b'P' => "PERSID",
        b'Q' => "BINPERSID",
        b'R' => "REDUCE",
        b'S' => "STRING",
        b'T' => "BINSTRING",
        b'U' => "SHORT_BINSTRING",
        b'V' => "UNICODE",
        b'X' => "BINUNICODE",
        b'a' => "APPEND",
        b'b' => "BUILD",
        b'c' => "GLOBAL",
        b'd' => "DICT",
        b'}' => "EMPTY_DICT",
        b'e' => "APPENDS",
        b'g' => "GET",
        b'h' => "BINGET",
        b'i' => "INST",
        b'j' => "LONG_BINGET",
        b'l' => "LIST",
        b']' => "EMPTY_LIST",
        b'o' => "OBJ",
        b'p' => "PUT",
        b'q' => "BINPUT",
        b'r' => "LONG_BINPUT",
        b's' => "SETITEM",
        b't' => "TUPLE",
        b')' => "EMPTY_TUPLE",
        b'u' => "SETITEMS",
        b'G' => "BINFLOAT",
        0x80 => "PROTO",
        0x81 => "NEWOBJ",
        0x82 => "EXT1",
        0x83 => "EXT2",
        0x84 => "EXT4",
        0x85 => "TUPLE1",
        0x86 => "TUPLE2",
        0x87 => "TUPLE3",
        0x88 => "NEWTRUE",
        0x89 => "NEWFALSE",
        0x8a => "LONG1",
        0x8b => "LONG4",
        0x8c => "SHORT_BINUNICODE",
        0x8d => "BINUNICODE8",
        0x8e => "BINBYTES8",
        0x8f => "EMPTY_SET",
        0x90 => "ADDITEMS",
        0x91 => "FROZENSET",
        0x92 => "NEWOBJ_EX",
        0x93 => "STACK_GLOBAL",
        0x94 => "MEMOIZE",
        0x95 => "FRAME",
        0x96 => "BYTEARRAY8",
        0x97 => "NEXT_BUFFER",
        0x98 => "READONLY_BUFFER",
        b'B' => "BINBYTES",
        b'C' => "SHORT_BINBYTES",
        _ => "unknown",
    }
}

struct Machine<'a> {
    data: &'a [u8],
    pos: usize,
    /// Offset of the opcode being run, for errors.
    at: usize,
    file: &'a str,
    stack: Vec<Item>,
    marks: Vec<usize>,
    memo: HashMap<u32, Item>,
    arena: Vec<Node>,
}

type R<T> = Result<T, PickleError>;

impl<'a> Machine<'a> {
    fn err(&self, kind: PickleErrorKind) -> PickleError {
        PickleError {
            file: self.file.to_string(),
            offset: self.at,
            kind,
        }
    }

    fn bad(&self, msg: impl Into<String>) -> PickleError {
        self.err(PickleErrorKind::Malformed(msg.into()))
    }

    fn take(&mut self, n: usize, what: &'static str) -> R<&'a [u8]> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.data.len())
            .ok_or_else(|| self.err(PickleErrorKind::Truncated(what)))?;
        let s = &self.data[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn u8(&mut self, what: &'static str) -> R<u8> {
        Ok(self.take(1, what)?[0])
    }

    fn u16(&mut self, what: &'static str) -> R<u16> {
        let b = self.take(2, what)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }

    fn u32(&mut self, what: &'static str) -> R<u32> {
        let b = self.take(4, what)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn line(&mut self, what: &'static str) -> R<&'a str> {
        let rest = &self.data[self.pos..];
        let n = rest
            .iter()
            .position(|&b| b == b'\n')
            .ok_or_else(|| self.err(PickleErrorKind::Truncated(what)))?;
        let s = std::str::from_utf8(&rest[..n])
            .map_err(|_| self.bad(format!("{what} is not UTF-8")))?;
        self.pos += n + 1;
        Ok(s)
    }

    fn pop(&mut self) -> R<Item> {
        let floor = self.marks.last().copied().unwrap_or(0);
        if self.stack.len() <= floor {
            return Err(self.bad("stack underflow"));
        }
        Ok(self.stack.pop().expect("checked above"))
    }

    fn pop_mark(&mut self) -> R<Vec<Item>> {
        let m = self
            .marks
            .pop()
            .ok_or_else(|| self.bad("no MARK to pop to"))?;
        Ok(self.stack.split_off(m))
    }

    fn top_node(&self) -> R<usize> {
        let floor = self.marks.last().copied().unwrap_or(0);
        match self.stack.last() {
            Some(Item::Node(i)) if self.stack.len() > floor => Ok(*i),
            _ => Err(self.bad("expected a container on the stack")),
        }
    }

    fn new_node(&mut self, node: Node) -> Item {
        self.arena.push(node);
        Item::Node(self.arena.len() - 1)
    }

    fn push(&mut self, item: Item) {
        self.stack.push(item);
    }

    fn tuple_items(&self, item: &Item, what: &str) -> R<Vec<Item>> {
        match item {
            Item::Node(i) => match &self.arena[*i] {
                Node::Tuple(v) => Ok(v.clone()),
                _ => Err(self.bad(format!("{what} must be a tuple"))),
            },
            _ => Err(self.bad(format!("{what} must be a tuple"))),
        }
    }

    fn int(&self, item: &Item, what: &str) -> R<i64> {
        match item {
            Item::Int(v) => Ok(*v),
            _ => Err(self.bad(format!("{what} must be an int"))),
        }
    }

    fn usize(&self, item: &Item, what: &str) -> R<usize> {
        usize::try_from(self.int(item, what)?)
            .map_err(|_| self.bad(format!("{what} must not be negative")))
    }

    fn ints(&self, item: &Item, what: &str) -> R<Vec<usize>> {
        self.tuple_items(item, what)?
            .iter()
            .map(|v| self.usize(v, what))
            .collect()
    }

    fn string(&self, item: &Item, what: &str) -> R<Rc<str>> {
        match item {
            Item::Str(s) => Ok(s.clone()),
            _ => Err(self.bad(format!("{what} must be a string"))),
        }
    }

    fn persistent_load(&self, pid: &Item) -> R<Item> {
        let t = self.tuple_items(pid, "a persistent id")?;
        if t.len() != 5 {
            return Err(self.bad(format!(
                "persistent id has {} fields, expected ('storage', type, key, location, numel)",
                t.len()
            )));
        }
        if &*self.string(&t[0], "persistent id tag")? != "storage" {
            return Err(self.bad("persistent id is not a storage"));
        }
        let dtype = match &t[1] {
            Item::Global(Global::FloatStorage) => StorageType::Float,
            _ => return Err(self.bad("storage type must be torch.FloatStorage")),
        };
        let key = self.string(&t[2], "storage key")?;
        // The key becomes a path inside the archive: digits only.
        if key.is_empty() || key.len() > 20 || !key.bytes().all(|b| b.is_ascii_digit()) {
            return Err(self.bad(format!("storage key {key:?} is not a number")));
        }
        Ok(Item::Storage(Rc::new(StorageRef {
            key: key.to_string(),
            dtype,
            location: self.string(&t[3], "storage location")?.to_string(),
            numel: self.usize(&t[4], "storage size")?,
        })))
    }

    fn rebuild_tensor(&self, args: &[Item]) -> R<Item> {
        // (storage, storage_offset, size, stride, requires_grad, backward_hooks)
        if args.len() != 6 {
            return Err(self.bad(format!(
                "_rebuild_tensor_v2 takes 6 arguments here, got {}",
                args.len()
            )));
        }
        let storage = match &args[0] {
            Item::Storage(s) => (**s).clone(),
            _ => return Err(self.bad("_rebuild_tensor_v2: first argument is not a storage")),
        };
        let offset = self.usize(&args[1], "tensor offset")?;
        let shape = self.ints(&args[2], "tensor size")?;
        let stride = self.ints(&args[3], "tensor stride")?;
        if shape.len() != stride.len() {
            return Err(self.bad("tensor size and stride differ in length"));
        }
        if !matches!(args[4], Item::Bool(_)) {
            return Err(self.bad("requires_grad must be a bool"));
        }
        Ok(Item::Tensor(Rc::new(TensorRef {
            storage,
            offset,
            shape,
            stride,
        })))
    }

    fn reduce(&mut self, callable: Item, args: Item) -> R<Item> {
        let args = self.tuple_items(&args, "REDUCE arguments")?;
        match callable {
            Item::Global(Global::OrderedDict) if args.is_empty() => {
                Ok(self.new_node(Node::Dict(Vec::new())))
            }
            Item::Global(Global::RebuildTensorV2) => self.rebuild_tensor(&args),
            Item::Global(Global::BuildIntlist) if args.len() == 1 => {
                let list = match &args[0] {
                    Item::Node(i) => match &self.arena[*i] {
                        Node::List(v) => v.clone(),
                        _ => return Err(self.bad("build_intlist needs a list")),
                    },
                    _ => return Err(self.bad("build_intlist needs a list")),
                };
                for v in &list {
                    self.int(v, "build_intlist element")?;
                }
                Ok(self.new_node(Node::List(list)))
            }
            Item::Global(g) => Err(self.bad(format!(
                "REDUCE: {g:?} with {} arguments is not a call this reader rebuilds",
                args.len()
            ))),
            _ => Err(self.bad("REDUCE of something that is not an allowed global")),
        }
    }

    fn step(&mut self) -> R<Option<Item>> {
        self.at = self.pos;
        let code = self.u8("an opcode")?;
        match code {
            0x80 => {
                let v = self.u8("PROTO version")?;
                if v != 2 {
                    return Err(self.bad(format!(
                        "pickle protocol {v}; TorchScript archives use protocol 2"
                    )));
                }
            }
            b'c' => {
                let module = self.line("GLOBAL module")?;
                let name = self.line("GLOBAL name")?;
                let item = resolve_global(module, name)
                    .ok_or_else(|| self.err(PickleErrorKind::Global(format!("{module} {name}"))))?;
                self.push(item);
            }
            b'q' => {
                let i = self.u8("BINPUT index")? as u32;
                self.put(i)?;
            }
            b'r' => {
                let i = self.u32("LONG_BINPUT index")?;
                self.put(i)?;
            }
            b'h' => {
                let i = self.u8("BINGET index")? as u32;
                self.get(i)?;
            }
            b'j' => {
                let i = self.u32("LONG_BINGET index")?;
                self.get(i)?;
            }
            b'(' => self.marks.push(self.stack.len()),
            b')' => {
                let t = self.new_node(Node::Tuple(Vec::new()));
                self.push(t);
            }
            b't' => {
                let items = self.pop_mark()?;
                let t = self.new_node(Node::Tuple(items));
                self.push(t);
            }
            b'}' => {
                let d = self.new_node(Node::Dict(Vec::new()));
                self.push(d);
            }
            b']' => {
                let l = self.new_node(Node::List(Vec::new()));
                self.push(l);
            }
            b'u' => {
                let items = self.pop_mark()?;
                if items.len() % 2 != 0 {
                    return Err(self.bad("SETITEMS with an odd number of items"));
                }
                let i = self.top_node()?;
                let Node::Dict(d) = &mut self.arena[i] else {
                    return Err(self.bad("SETITEMS on something that is not a dict"));
                };
                let mut it = items.into_iter();
                while let (Some(k), Some(v)) = (it.next(), it.next()) {
                    d.push((k, v));
                }
            }
            b'e' => {
                let items = self.pop_mark()?;
                let i = self.top_node()?;
                let Node::List(l) = &mut self.arena[i] else {
                    return Err(self.bad("APPENDS on something that is not a list"));
                };
                l.extend(items);
            }
            b'X' => {
                let n = self.u32("BINUNICODE length")? as usize;
                let bytes = self.take(n, "BINUNICODE data")?;
                let s = std::str::from_utf8(bytes)
                    .map_err(|_| self.bad("BINUNICODE string is not UTF-8"))?;
                self.push(Item::Str(s.into()));
            }
            b'J' => {
                let b = self.take(4, "BININT")?;
                self.push(Item::Int(
                    i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as i64
                ));
            }
            b'K' => {
                let v = self.u8("BININT1")?;
                self.push(Item::Int(v as i64));
            }
            b'M' => {
                let v = self.u16("BININT2")?;
                self.push(Item::Int(v as i64));
            }
            0x88 => self.push(Item::Bool(true)),
            0x89 => self.push(Item::Bool(false)),
            b'N' => self.push(Item::None),
            0x81 => {
                let args = self.pop()?;
                let cls = self.pop()?;
                let Item::Class(class) = cls else {
                    return Err(self.bad("NEWOBJ of something that is not a module class"));
                };
                if !self.tuple_items(&args, "NEWOBJ arguments")?.is_empty() {
                    return Err(self.bad("NEWOBJ with arguments"));
                }
                let o = self.new_node(Node::Object { class, state: None });
                self.push(o);
            }
            b'R' => {
                let args = self.pop()?;
                let callable = self.pop()?;
                let out = self.reduce(callable, args)?;
                self.push(out);
            }
            b'b' => {
                let state = self.pop()?;
                let i = self.top_node()?;
                let is_dict =
                    matches!(&state, Item::Node(s) if matches!(self.arena[*s], Node::Dict(_)));
                if !is_dict {
                    return Err(self.bad("BUILD state must be a dict"));
                }
                let Node::Object { state: slot, .. } = &mut self.arena[i] else {
                    return Err(self.bad("BUILD on something that is not a module object"));
                };
                if slot.is_some() {
                    return Err(self.bad("BUILD twice on one object"));
                }
                *slot = Some(state);
            }
            b'Q' => {
                let pid = self.pop()?;
                let s = self.persistent_load(&pid)?;
                self.push(s);
            }
            b'.' => {
                let v = self.pop()?;
                return Ok(Some(v));
            }
            other => {
                return Err(self.err(PickleErrorKind::Opcode {
                    code: other,
                    name: opcode_name(other),
                }))
            }
        }
        Ok(None)
    }

    fn put(&mut self, i: u32) -> R<()> {
        let v = self
            .stack
            .last()
            .cloned()
            .ok_or_else(|| self.bad("memo put with an empty stack"))?;
        if self.memo.len() >= MAX_MEMO && !self.memo.contains_key(&i) {
            return Err(self.bad("too many memo entries"));
        }
        self.memo.insert(i, v);
        Ok(())
    }

    fn get(&mut self, i: u32) -> R<()> {
        let v = self
            .memo
            .get(&i)
            .cloned()
            .ok_or_else(|| self.bad(format!("memo entry {i} was never stored")))?;
        self.push(v);
        Ok(())
    }

    /// The tree rooted at `item`, within the depth and size limits.
    fn build(&self, item: &Item, depth: usize, budget: &mut usize) -> R<Value> {
        if depth > MAX_DEPTH {
            return Err(self.bad("nesting too deep (or a container contains itself)"));
        }
        if *budget == 0 {
            return Err(self.bad("too many values"));
        }
        *budget -= 1;
        let build_all = |items: &[Item], budget: &mut usize| -> R<Vec<Value>> {
            items
                .iter()
                .map(|v| self.build(v, depth + 1, budget))
                .collect()
        };
        Ok(match item {
            Item::None => Value::None,
            Item::Bool(b) => Value::Bool(*b),
            Item::Int(v) => Value::Int(*v),
            Item::Str(s) => Value::Str(s.to_string()),
            Item::Tensor(t) => Value::Tensor((**t).clone()),
            Item::Storage(_) => return Err(self.bad("a bare storage outside a tensor")),
            Item::Global(g) => return Err(self.bad(format!("a bare global {g:?} as a value"))),
            Item::Class(c) => return Err(self.bad(format!("a bare class {c} as a value"))),
            Item::Node(i) => match &self.arena[*i] {
                Node::Tuple(v) => Value::Tuple(build_all(v, budget)?),
                Node::List(v) => Value::List(build_all(v, budget)?),
                Node::Dict(pairs) => {
                    let mut out = Vec::with_capacity(pairs.len());
                    for (k, v) in pairs {
                        out.push((
                            self.build(k, depth + 1, budget)?,
                            self.build(v, depth + 1, budget)?,
                        ));
                    }
                    Value::Dict(out)
                }
                Node::Object { class, state } => {
                    let mut attrs = Vec::new();
                    if let Some(state) = state {
                        let Value::Dict(pairs) = self.build(state, depth + 1, budget)? else {
                            return Err(self.bad("object state is not a dict"));
                        };
                        for (k, v) in pairs {
                            let Value::Str(k) = k else {
                                return Err(
                                    self.bad(format!("attribute name of {class} is not a string"))
                                );
                            };
                            attrs.push((k, v));
                        }
                    }
                    Value::Object(Object {
                        class: class.to_string(),
                        state: attrs,
                    })
                }
            },
        })
    }
}

/// Reads a pickle; `file` names it in errors (e.g. `default_1.pt:out_jit_module/data.pkl`).
pub fn read(data: &[u8], file: &str) -> Result<Value, PickleError> {
    let mut m = Machine {
        data,
        pos: 0,
        at: 0,
        file,
        stack: Vec::new(),
        marks: Vec::new(),
        memo: HashMap::new(),
        arena: Vec::new(),
    };
    loop {
        if let Some(root) = m.step()? {
            let mut budget = MAX_VALUES;
            return m.build(&root, 0, &mut budget);
        }
    }
}

impl fmt::Display for StorageType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StorageType::Float => write!(f, "float32"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_small_module_tree() {
        // WrapNet() with state {'training': True, 'net': [1, 2], 'd': OrderedDict()}
        let mut p = vec![0x80, 2];
        p.extend(b"c__torch__.wrap_net\nWrapNet\nq\x00)\x81}(");
        p.extend(b"X\x08\x00\x00\x00training\x88");
        p.extend(b"X\x03\x00\x00\x00net](K\x01M\x00\x01e");
        p.extend(b"X\x01\x00\x00\x00dccollections\nOrderedDict\n)R");
        p.extend(b"ub.");
        let v = read(&p, "t.pkl").unwrap();
        let Value::Object(o) = v else { panic!() };
        assert_eq!(o.class, "__torch__.wrap_net.WrapNet");
        assert_eq!(o.get("training"), Some(&Value::Bool(true)));
        assert_eq!(
            o.get("net"),
            Some(&Value::List(vec![Value::Int(1), Value::Int(256)]))
        );
        assert_eq!(o.get("d"), Some(&Value::Dict(vec![])));
    }

    #[test]
    fn rejects_other_globals_and_opcodes_with_offsets() {
        let p = b"\x80\x02cos\nsystem\n.";
        let e = read(p, "evil.pkl").unwrap_err();
        assert_eq!(e.offset, 2);
        assert!(matches!(e.kind, PickleErrorKind::Global(ref g) if g == "os system"));
        assert!(e.to_string().contains("evil.pkl"), "{e}");

        let p = b"\x80\x02G\x00\x00\x00\x00\x00\x00\x00\x00.";
        let e = read(p, "f.pkl").unwrap_err();
        assert_eq!(e.offset, 2);
        assert!(e.to_string().contains("BINFLOAT"), "{e}");

        let e = read(b"\x80\x04.", "f.pkl").unwrap_err();
        assert!(e.to_string().contains("protocol 4"), "{e}");
    }

    #[test]
    fn self_reference_is_an_error_not_a_hang() {
        // l = []; l.append(l)
        let p = b"\x80\x02]q\x00(h\x00e.";
        let e = read(p, "loop.pkl").unwrap_err();
        assert!(e.to_string().contains("too deep"), "{e}");
    }

    #[test]
    fn mangled_module_names_are_allowed_but_not_lookalikes() {
        assert!(
            resolve_global("__torch__.inceptionv3.___torch_mangle_12", "Conv2dLayer").is_some()
        );
        assert!(resolve_global("__torch__.inceptionv3.___torch_mangle_", "Conv2dLayer").is_none());
        assert!(resolve_global("__torch__.inceptionv3", "eval").is_none());
        assert!(resolve_global("builtins", "eval").is_none());
    }
}
