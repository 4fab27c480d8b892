//! TensorBoard event files (scalars and images), so TensorBoard, and W&B through
//! its TensorBoard sync, show a run with no extra code. The format: TFRecord
//! framing (length, masked CRC-32C) around `tensorflow.Event` protobufs.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// CRC-32C (Castagnoli), as TFRecord requires.
fn crc32c(data: &[u8]) -> u32 {
    static TABLE: std::sync::OnceLock<[u32; 256]> = std::sync::OnceLock::new();
    let table = TABLE.get_or_init(|| {
        let mut t = [0u32; 256];
        for (i, e) in t.iter_mut().enumerate() {
            let mut c = i as u32;
            for _ in 0..8 {
                c = if c & 1 != 0 {
                    0x82F6_3B78 ^ (c >> 1)
                } else {
                    c >> 1
                };
            }
            *e = c;
        }
        t
    });
    let mut crc = !0u32;
    for &b in data {
        crc = table[((crc ^ b as u32) & 0xff) as usize] ^ (crc >> 8);
    }
    !crc
}

fn masked_crc(data: &[u8]) -> u32 {
    let c = crc32c(data);
    (c.rotate_right(15)).wrapping_add(0xa282_ead8)
}

/// Minimal protobuf encoding of the few messages an event file needs.
#[derive(Default)]
struct Proto(Vec<u8>);

impl Proto {
    fn varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.0.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.0.push(v as u8);
    }
    fn key(&mut self, field: u32, wire: u8) {
        self.varint(((field as u64) << 3) | wire as u64);
    }
    fn double(&mut self, field: u32, v: f64) {
        self.key(field, 1);
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn float(&mut self, field: u32, v: f32) {
        self.key(field, 5);
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn int(&mut self, field: u32, v: i64) {
        self.key(field, 0);
        self.varint(v as u64);
    }
    fn bytes(&mut self, field: u32, b: &[u8]) {
        self.key(field, 2);
        self.varint(b.len() as u64);
        self.0.extend_from_slice(b);
    }
}

/// An encoded PNG and its size, as an image summary stores it.
pub struct PngImage {
    pub bytes: Vec<u8>,
    pub height: u32,
    pub width: u32,
    pub channels: u32,
}

pub struct EventWriter {
    out: BufWriter<File>,
    path: PathBuf,
}

impl EventWriter {
    /// Creates `events.out.tfevents.<time>.<host>` in `dir`.
    pub fn create(dir: &Path, wall_time: f64) -> std::io::Result<Self> {
        let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "localhost".into());
        let host: String = host
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || "-_.".contains(*c))
            .collect();
        let path = dir.join(format!("events.out.tfevents.{}.{host}", wall_time as u64));
        let mut w = EventWriter {
            out: BufWriter::new(File::create(&path)?),
            path,
        };
        let mut e = Proto::default();
        e.double(1, wall_time);
        e.bytes(3, b"brain.Event:2");
        w.record(&e.0)?;
        w.flush()?;
        Ok(w)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn record(&mut self, data: &[u8]) -> std::io::Result<()> {
        let len = (data.len() as u64).to_le_bytes();
        self.out.write_all(&len)?;
        self.out.write_all(&masked_crc(&len).to_le_bytes())?;
        self.out.write_all(data)?;
        self.out.write_all(&masked_crc(data).to_le_bytes())
    }

    fn event(&mut self, wall_time: f64, step: i64, summary_value: &[u8]) -> std::io::Result<()> {
        let mut summary = Proto::default();
        summary.bytes(1, summary_value);
        let mut e = Proto::default();
        e.double(1, wall_time);
        e.int(2, step);
        e.bytes(5, &summary.0);
        self.record(&e.0)
    }

    pub fn scalar(
        &mut self,
        tag: &str,
        value: f64,
        step: i64,
        wall_time: f64,
    ) -> std::io::Result<()> {
        let mut v = Proto::default();
        v.bytes(1, tag.as_bytes());
        v.float(2, value as f32);
        self.event(wall_time, step, &v.0)
    }

    /// An image given as encoded PNG bytes.
    pub fn image_png(
        &mut self,
        tag: &str,
        png: &PngImage,
        step: i64,
        wall_time: f64,
    ) -> std::io::Result<()> {
        let mut img = Proto::default();
        img.int(1, png.height as i64);
        img.int(2, png.width as i64);
        img.int(3, png.channels as i64);
        img.bytes(4, &png.bytes);
        let mut v = Proto::default();
        v.bytes(1, tag.as_bytes());
        v.bytes(4, &img.0);
        self.event(wall_time, step, &v.0)
    }

    pub fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()?;
        self.out.get_ref().sync_data()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32c_known_answer() {
        // RFC 3720 test vector.
        assert_eq!(crc32c(b"123456789"), 0xE306_9283);
        assert_eq!(crc32c(&[0u8; 32]), 0x8A91_36AA);
    }

    #[test]
    fn records_are_framed_with_valid_checksums() {
        let dir = std::env::temp_dir().join(format!("tcgan-tb-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut w = EventWriter::create(&dir, 1000.0).unwrap();
        w.scalar("Loss/G/loss", 0.5, 3, 1001.0).unwrap();
        w.image_png(
            "fakes",
            &PngImage {
                bytes: vec![1, 2, 3],
                height: 2,
                width: 2,
                channels: 3,
            },
            3,
            1002.0,
        )
        .unwrap();
        w.flush().unwrap();
        let bytes = std::fs::read(w.path()).unwrap();
        let mut pos = 0;
        let mut records = 0;
        while pos < bytes.len() {
            let len_bytes = &bytes[pos..pos + 8];
            let len = u64::from_le_bytes(len_bytes.try_into().unwrap()) as usize;
            assert_eq!(
                u32::from_le_bytes(bytes[pos + 8..pos + 12].try_into().unwrap()),
                masked_crc(len_bytes)
            );
            let data = &bytes[pos + 12..pos + 12 + len];
            let crc = u32::from_le_bytes(bytes[pos + 12 + len..pos + 16 + len].try_into().unwrap());
            assert_eq!(crc, masked_crc(data));
            pos += 16 + len;
            records += 1;
        }
        assert_eq!(records, 3);
        // The scalar's tag and value are in the second record.
        let needle = b"Loss/G/loss";
        assert!(bytes.windows(needle.len()).any(|w| w == needle));
        assert!(bytes.windows(4).any(|w| w == 0.5f32.to_le_bytes()));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
