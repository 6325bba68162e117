//! A small PNG reader (8-bit RGB or RGBA, not interlaced: what Chromium writes) and a look at
//! the pixels that tells a blank screenshot from a page with charts.

use std::io::Read;
use std::path::Path;

/// A decoded 8-bit RGB(A) PNG (what Chromium writes).
pub struct Png {
    pub width: usize,
    pub height: usize,
    channels: usize,
    pixels: Vec<u8>,
}

#[derive(Debug)]
pub struct Look {
    /// Share of pixels unlike the top-left (background) one.
    pub differing: f64,
    /// Share of pixels with a clear hue (chart series, badges).
    pub coloured: f64,
    pub background_luma: f64,
}

impl Png {
    pub fn read(path: &Path) -> Png {
        let data = std::fs::read(path).unwrap();
        assert_eq!(&data[..8], b"\x89PNG\r\n\x1a\n", "a PNG");
        let (mut i, mut idat) = (8, Vec::new());
        let (mut width, mut height, mut channels) = (0, 0, 0);
        while i + 8 <= data.len() {
            let len = u32::from_be_bytes(data[i..i + 4].try_into().unwrap()) as usize;
            let kind = &data[i + 4..i + 8];
            let body = &data[i + 8..i + 8 + len];
            match kind {
                b"IHDR" => {
                    width = u32::from_be_bytes(body[0..4].try_into().unwrap()) as usize;
                    height = u32::from_be_bytes(body[4..8].try_into().unwrap()) as usize;
                    assert_eq!(body[8], 8, "8-bit");
                    channels = match body[9] {
                        2 => 3,
                        6 => 4,
                        c => panic!("colour type {c}"),
                    };
                    assert_eq!(body[12], 0, "not interlaced");
                }
                b"IDAT" => idat.extend_from_slice(body),
                _ => {}
            }
            i += 12 + len;
        }
        let mut raw = Vec::new();
        flate2::read::ZlibDecoder::new(&idat[..])
            .read_to_end(&mut raw)
            .unwrap();
        let stride = width * channels;
        let mut pixels = vec![0u8; stride * height];
        for y in 0..height {
            let filter = raw[y * (stride + 1)];
            let line = &raw[y * (stride + 1) + 1..(y + 1) * (stride + 1)];
            for x in 0..stride {
                let a = if x >= channels {
                    pixels[y * stride + x - channels]
                } else {
                    0
                };
                let b = if y > 0 {
                    pixels[(y - 1) * stride + x]
                } else {
                    0
                };
                let c = if x >= channels && y > 0 {
                    pixels[(y - 1) * stride + x - channels]
                } else {
                    0
                };
                let p = match filter {
                    0 => 0,
                    1 => a,
                    2 => b,
                    3 => ((u16::from(a) + u16::from(b)) / 2) as u8,
                    4 => {
                        let (ia, ib, ic) = (i16::from(a), i16::from(b), i16::from(c));
                        let p = ia + ib - ic;
                        let (pa, pb, pc) = ((p - ia).abs(), (p - ib).abs(), (p - ic).abs());
                        if pa <= pb && pa <= pc {
                            a
                        } else if pb <= pc {
                            b
                        } else {
                            c
                        }
                    }
                    f => panic!("filter {f}"),
                };
                pixels[y * stride + x] = line[x].wrapping_add(p);
            }
        }
        Png {
            width,
            height,
            channels,
            pixels,
        }
    }

    pub fn look(&self) -> Look {
        let px = |i: usize| &self.pixels[i * self.channels..i * self.channels + 3];
        let bg = px(0).to_vec();
        let n = self.width * self.height;
        let (mut differing, mut coloured) = (0usize, 0usize);
        for i in 0..n {
            let p = px(i);
            if p.iter().zip(&bg).any(|(a, b)| a.abs_diff(*b) > 24) {
                differing += 1;
            }
            let (mx, mn) = (*p.iter().max().unwrap(), *p.iter().min().unwrap());
            if mx - mn > 60 {
                coloured += 1;
            }
        }
        Look {
            differing: differing as f64 / n as f64,
            coloured: coloured as f64 / n as f64,
            background_luma: 0.2126 * f64::from(bg[0])
                + 0.7152 * f64::from(bg[1])
                + 0.0722 * f64::from(bg[2]),
        }
    }
}
