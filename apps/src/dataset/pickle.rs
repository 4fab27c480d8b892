//! A minimal, safe reader for the pickles of the CIFAR python batches.
//!
//! It builds a value tree from the opcodes of protocols 0-4 that such files use and never runs
//! anything: `GLOBAL`, `REDUCE` and `BUILD` only record which callable and arguments the file
//! names, and the caller decides what a recognised pattern (a numpy array) means.

use std::collections::HashMap;
use std::rc::Rc;

/// A pickled value. Callables stay symbolic.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    None,
    Bool(bool),
    Int(i64),
    Float(f64),
    /// `str` of Python 3, or `str` of Python 2 read as Latin-1 (the `encoding='latin1'` rule).
    Str(String),
    Bytes(Vec<u8>),
    Tuple(Vec<Rc<Value>>),
    List(Vec<Rc<Value>>),
    Dict(Vec<(Rc<Value>, Rc<Value>)>),
    Global {
        module: String,
        name: String,
    },
    /// `callable(*args)`, then `__setstate__(state)` when `state` is set.
    Object {
        callable: Rc<Value>,
        args: Rc<Value>,
        state: Option<Rc<Value>>,
    },
}

impl Value {
    pub fn dict_get(&self, key: &str) -> Option<&Rc<Value>> {
        match self {
            Value::Dict(items) => items.iter().rev().find_map(|(k, v)| match &**k {
                Value::Str(s) if s == key => Some(v),
                Value::Bytes(b) if b == key.as_bytes() => Some(v),
                _ => None,
            }),
            _ => None,
        }
    }

    /// The bytes of a `Str` read as Latin-1, or of `Bytes`.
    pub fn as_latin1_bytes(&self) -> Option<Vec<u8>> {
        match self {
            Value::Bytes(b) => Some(b.clone()),
            Value::Str(s) => s.chars().map(|c| u8::try_from(c as u32).ok()).collect(),
            _ => None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("pickle offset {offset}: {msg}")]
pub struct PickleError {
    pub offset: usize,
    pub msg: String,
}

/// A value with its nesting depth, bounded by [`MAX_DEPTH`] so that dropping a hostile
/// file's value tree cannot overflow the stack.
enum Item {
    Mark,
    Val(Rc<Value>, u32),
}

const MAX_DEPTH: u32 = 100;

struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn err(&self, msg: impl Into<String>) -> PickleError {
        PickleError {
            offset: self.pos,
            msg: msg.into(),
        }
    }
    fn take(&mut self, n: usize) -> Result<&'a [u8], PickleError> {
        if self.data.len() - self.pos < n {
            return Err(self.err(format!("truncated: {n} bytes needed")));
        }
        let s = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }
    fn u8(&mut self) -> Result<u8, PickleError> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<usize, PickleError> {
        let b = self.take(2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]) as usize)
    }
    fn u32(&mut self) -> Result<u32, PickleError> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn u64(&mut self) -> Result<u64, PickleError> {
        let b = self.take(8)?;
        Ok(u64::from_le_bytes(b.try_into().unwrap()))
    }
    fn line(&mut self) -> Result<&'a str, PickleError> {
        let rest = &self.data[self.pos..];
        let end = rest
            .iter()
            .position(|&b| b == b'\n')
            .ok_or_else(|| self.err("unterminated line"))?;
        let s = std::str::from_utf8(&rest[..end]).map_err(|_| self.err("line is not UTF-8"))?;
        self.pos += end + 1;
        Ok(s)
    }
    fn len_prefixed(&mut self, n: u64) -> Result<&'a [u8], PickleError> {
        let n = usize::try_from(n).map_err(|_| self.err("length too large"))?;
        self.take(n)
    }
}

fn latin1(b: &[u8]) -> String {
    b.iter().map(|&c| c as char).collect()
}

/// Parses a pickle into a value tree.
pub fn parse(data: &[u8]) -> Result<Value, PickleError> {
    let mut r = Reader { data, pos: 0 };
    let mut stack: Vec<Item> = Vec::new();
    let mut memo: HashMap<u64, (Rc<Value>, u32)> = HashMap::new();

    fn pop(stack: &mut Vec<Item>, r: &Reader) -> Result<(Rc<Value>, u32), PickleError> {
        match stack.pop() {
            Some(Item::Val(v, d)) => Ok((v, d)),
            Some(Item::Mark) => Err(r.err("unexpected mark")),
            None => Err(r.err("stack underflow")),
        }
    }
    fn pop_mark(stack: &mut Vec<Item>, r: &Reader) -> Result<Vec<(Rc<Value>, u32)>, PickleError> {
        let at = stack
            .iter()
            .rposition(|i| matches!(i, Item::Mark))
            .ok_or_else(|| r.err("no mark on the stack"))?;
        let items = stack.split_off(at + 1);
        stack.pop();
        Ok(items
            .into_iter()
            .map(|i| match i {
                Item::Val(v, d) => (v, d),
                Item::Mark => unreachable!("marks above the last one were split off"),
            })
            .collect())
    }
    fn top_mut<'s>(
        stack: &'s mut [Item],
        r: &Reader,
    ) -> Result<(&'s mut Rc<Value>, &'s mut u32), PickleError> {
        match stack.last_mut() {
            Some(Item::Val(v, d)) => Ok((v, d)),
            _ => Err(r.err("no value on the stack")),
        }
    }

    fn node(stack: &mut Vec<Item>, r: &Reader, v: Value, depth: u32) -> Result<(), PickleError> {
        if depth > MAX_DEPTH {
            return Err(r.err("values nested too deeply"));
        }
        stack.push(Item::Val(Rc::new(v), depth));
        Ok(())
    }
    fn max_depth(items: &[(Rc<Value>, u32)]) -> u32 {
        items.iter().map(|(_, d)| *d).max().unwrap_or(0)
    }
    fn values(items: Vec<(Rc<Value>, u32)>) -> Vec<Rc<Value>> {
        items.into_iter().map(|(v, _)| v).collect()
    }

    loop {
        let op = r.u8()?;
        let leaf = |stack: &mut Vec<Item>, v: Value| stack.push(Item::Val(Rc::new(v), 0));
        match op {
            0x80 => {
                r.u8()?; // PROTO
            }
            0x95 => {
                r.u64()?; // FRAME: framing is a hint for buffered readers only
            }
            b'.' => return pop(&mut stack, &r).map(|(v, _)| (*v).clone()),
            b'(' => stack.push(Item::Mark),
            b'N' => leaf(&mut stack, Value::None),
            0x88 => leaf(&mut stack, Value::Bool(true)),
            0x89 => leaf(&mut stack, Value::Bool(false)),
            b'J' => {
                let v = r.u32()? as i32;
                leaf(&mut stack, Value::Int(v as i64))
            }
            b'K' => {
                let v = r.u8()?;
                leaf(&mut stack, Value::Int(v as i64))
            }
            b'M' => {
                let v = r.u16()?;
                leaf(&mut stack, Value::Int(v as i64))
            }
            0x8a => {
                let n = r.u8()? as usize;
                let b = r.take(n)?;
                if n > 8 {
                    return Err(r.err("integer too large"));
                }
                let mut v: i64 = 0;
                for (i, &byte) in b.iter().enumerate() {
                    v |= (byte as i64) << (8 * i);
                }
                if n > 0 && n < 8 && b[n - 1] & 0x80 != 0 {
                    v -= 1i64 << (8 * n);
                }
                leaf(&mut stack, Value::Int(v))
            }
            b'I' => {
                let line = r.line()?;
                let v = match line {
                    "01" => Value::Bool(true),
                    "00" => Value::Bool(false),
                    s => Value::Int(s.parse().map_err(|_| r.err("bad INT"))?),
                };
                leaf(&mut stack, v)
            }
            b'G' => {
                let b = r.take(8)?;
                leaf(
                    &mut stack,
                    Value::Float(f64::from_be_bytes(b.try_into().unwrap())),
                )
            }
            b'U' | b'T' => {
                let n = if op == b'U' {
                    r.u8()? as u64
                } else {
                    r.u32()? as u64
                };
                let b = r.len_prefixed(n)?;
                leaf(&mut stack, Value::Str(latin1(b)))
            }
            b'X' | 0x8c | 0x8d => {
                let n = match op {
                    b'X' => r.u32()? as u64,
                    0x8c => r.u8()? as u64,
                    _ => r.u64()?,
                };
                let b = r.len_prefixed(n)?;
                let s = std::str::from_utf8(b).map_err(|_| r.err("string is not UTF-8"))?;
                leaf(&mut stack, Value::Str(s.to_string()))
            }
            b'C' | b'B' | 0x8e => {
                let n = match op {
                    b'C' => r.u8()? as u64,
                    b'B' => r.u32()? as u64,
                    _ => r.u64()?,
                };
                let b = r.len_prefixed(n)?;
                leaf(&mut stack, Value::Bytes(b.to_vec()))
            }
            b')' => leaf(&mut stack, Value::Tuple(vec![])),
            b']' => leaf(&mut stack, Value::List(vec![])),
            b'}' => leaf(&mut stack, Value::Dict(vec![])),
            b't' | b'l' => {
                let items = pop_mark(&mut stack, &r)?;
                let d = max_depth(&items) + 1;
                let items = values(items);
                let v = if op == b't' {
                    Value::Tuple(items)
                } else {
                    Value::List(items)
                };
                node(&mut stack, &r, v, d)?
            }
            b'd' => {
                let items = pop_mark(&mut stack, &r)?;
                if items.len() % 2 != 0 {
                    return Err(r.err("odd number of dict items"));
                }
                let d = max_depth(&items) + 1;
                let items = values(items);
                let pairs = items
                    .chunks(2)
                    .map(|p| (p[0].clone(), p[1].clone()))
                    .collect();
                node(&mut stack, &r, Value::Dict(pairs), d)?
            }
            0x85..=0x87 => {
                let n = (op - 0x84) as usize;
                let mut items = Vec::with_capacity(n);
                for _ in 0..n {
                    items.push(pop(&mut stack, &r)?);
                }
                items.reverse();
                let d = max_depth(&items) + 1;
                node(&mut stack, &r, Value::Tuple(values(items)), d)?
            }
            b'a' | b'e' | b's' | b'u' => {
                let items = match op {
                    b'a' => vec![pop(&mut stack, &r)?],
                    b's' => {
                        let v = pop(&mut stack, &r)?;
                        let k = pop(&mut stack, &r)?;
                        vec![k, v]
                    }
                    _ => pop_mark(&mut stack, &r)?,
                };
                let d = max_depth(&items) + 1;
                if d > MAX_DEPTH {
                    return Err(r.err("values nested too deeply"));
                }
                let items = values(items);
                let (top, top_depth) = top_mut(&mut stack, &r)?;
                *top_depth = (*top_depth).max(d);
                match (op, Rc::make_mut(top)) {
                    (b'a' | b'e', Value::List(l)) => l.extend(items),
                    (b's' | b'u', Value::Dict(map)) if items.len() % 2 == 0 => {
                        map.extend(items.chunks(2).map(|p| (p[0].clone(), p[1].clone())))
                    }
                    _ => return Err(r.err("append/setitem on the wrong kind of value")),
                }
            }
            b'c' => {
                let module = r.line()?.to_string();
                let name = r.line()?.to_string();
                leaf(&mut stack, Value::Global { module, name })
            }
            0x93 => {
                let (name, _) = pop(&mut stack, &r)?;
                let (module, _) = pop(&mut stack, &r)?;
                match (&*module, &*name) {
                    (Value::Str(m), Value::Str(n)) => leaf(
                        &mut stack,
                        Value::Global {
                            module: m.clone(),
                            name: n.clone(),
                        },
                    ),
                    _ => return Err(r.err("STACK_GLOBAL needs two strings")),
                }
            }
            b'R' | 0x81 => {
                let (args, da) = pop(&mut stack, &r)?;
                let (callable, dc) = pop(&mut stack, &r)?;
                node(
                    &mut stack,
                    &r,
                    Value::Object {
                        callable,
                        args,
                        state: None,
                    },
                    da.max(dc) + 1,
                )?
            }
            b'b' => {
                let (state, ds) = pop(&mut stack, &r)?;
                if ds + 1 > MAX_DEPTH {
                    return Err(r.err("values nested too deeply"));
                }
                let (top, top_depth) = top_mut(&mut stack, &r)?;
                *top_depth = (*top_depth).max(ds + 1);
                match Rc::make_mut(top) {
                    Value::Object { state: s, .. } => *s = Some(state),
                    _ => return Err(r.err("BUILD on a non-object")),
                }
            }
            b'q' | b'r' | 0x94 | b'p' => {
                let key = match op {
                    b'q' => r.u8()? as u64,
                    b'r' => r.u32()? as u64,
                    0x94 => memo.len() as u64,
                    _ => r.line()?.parse().map_err(|_| r.err("bad PUT"))?,
                };
                let (top, d) = top_mut(&mut stack, &r)?;
                let entry = (top.clone(), *d);
                memo.insert(key, entry);
            }
            b'h' | b'j' | b'g' => {
                let key = match op {
                    b'h' => r.u8()? as u64,
                    b'j' => r.u32()? as u64,
                    _ => r.line()?.parse().map_err(|_| r.err("bad GET"))?,
                };
                let (v, d) = memo
                    .get(&key)
                    .ok_or_else(|| r.err("GET of an unknown memo key"))?
                    .clone();
                stack.push(Item::Val(v, d));
            }
            b'0' => {
                stack.pop().ok_or_else(|| r.err("POP on an empty stack"))?;
            }
            b'2' => {
                let (v, d) = pop(&mut stack, &r)?;
                stack.push(Item::Val(v.clone(), d));
                stack.push(Item::Val(v, d));
            }
            b'1' => {
                pop_mark(&mut stack, &r)?;
            }
            other => return Err(r.err(format!("unsupported opcode 0x{other:02x}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_small_dict() {
        // pickle.dumps({'a': [1, 300], 'b': b'xy'}, protocol=2) as Python 2 would write it.
        let v = parse(b"\x80\x02}q\x00(U\x01aq\x01]q\x02(K\x01M,\x01eU\x01bq\x03U\x02xyq\x04u.")
            .unwrap();
        assert_eq!(
            **v.dict_get("a").unwrap(),
            Value::List(vec![Rc::new(Value::Int(1)), Rc::new(Value::Int(300))])
        );
        assert_eq!(v.dict_get("b").unwrap().as_latin1_bytes().unwrap(), b"xy");
    }

    #[test]
    fn refuses_hostile_input() {
        // Nesting deeper than MAX_DEPTH (one TUPLE1 per level).
        let mut deep = vec![b'N'];
        deep.extend(std::iter::repeat_n(0x85u8, 1000));
        deep.push(b'.');
        assert!(parse(&deep).unwrap_err().msg.contains("nested"));
        // A length beyond the end of the data, an unknown opcode, an empty stack.
        assert!(parse(b"T\xff\xff\xff\x7f").is_err());
        assert!(parse(b"\xff").is_err());
        assert!(parse(b".").is_err());
        // Code is never run: REDUCE only records the call.
        let v = parse(b"cos\nsystem\nU\x02lsq\x00\x85R.").unwrap();
        assert!(matches!(v, Value::Object { .. }));
    }
}
