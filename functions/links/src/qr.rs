//! QR codes of a smartlink's public URL (`qrcode`, the QR encoder the Rust ecosystem
//! uses; PNG written with `png`, the encoder `image` itself is built on, without the
//! rest of `image`). Four modules of quiet zone, as the standard asks.

use qrcode::{Color, EcLevel, QrCode};

/// Modules of white border around the code.
const QUIET: usize = 4;
pub const DEFAULT_SIZE: u32 = 512;
pub const MIN_SIZE: u32 = 64;
pub const MAX_SIZE: u32 = 2048;

fn encode(text: &str) -> Result<QrCode, String> {
    // Level M: survives some wear on print, keeps the code small.
    QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M)
        .map_err(|e| format!("cannot encode a QR code: {e}"))
}

/// A PNG about `size` pixels wide (whole pixels per module, so never blurred).
pub fn png(text: &str, size: u32) -> Result<Vec<u8>, String> {
    let code = encode(text)?;
    let modules = code.width();
    let colors = code.to_colors();
    let span = modules + 2 * QUIET;
    let scale = (usize::try_from(size).unwrap_or(0) / span).max(1);
    let side = span * scale;
    let mut pixels = vec![255u8; side * side];
    for (index, color) in colors.iter().enumerate() {
        if *color != Color::Dark {
            continue;
        }
        let (x, y) = (index % modules + QUIET, index / modules + QUIET);
        for row in y * scale..(y + 1) * scale {
            pixels[row * side + x * scale..row * side + (x + 1) * scale].fill(0);
        }
    }
    let side = u32::try_from(side).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, side, side);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().map_err(|e| e.to_string())?;
    writer
        .write_image_data(&pixels)
        .map_err(|e| e.to_string())?;
    writer.finish().map_err(|e| e.to_string())?;
    Ok(out)
}

/// An SVG `size` pixels wide.
pub fn svg(text: &str, size: u32) -> Result<String, String> {
    let code = encode(text)?;
    Ok(code
        .render::<qrcode::render::svg::Color>()
        .quiet_zone(true)
        .min_dimensions(size, size)
        .max_dimensions(size, size)
        .build())
}
