//! The report's charts, drawn by plotters as SVG text that goes inline into
//! the page. Only plotters' SVG backend is built: its text is written as
//! `<text>` elements for the browser to set in its own sans-serif, so no
//! font is read from the system, and plotters escapes every label.

use super::format;
use super::portfolio::{LogHistogram, Portfolio, BINS_PER_DECADE, DPD_BUCKETS};
use super::text;
use super::timeline::Timeline;
use crate::i18n::Lang;
use crate::results::Status;
use plotters::coord::ranged1d::SegmentValue;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// Width and height of a chart, in CSS pixels (the page scales them down to
/// fit narrower screens).
pub const SIZE: (u32, u32) = (560, 320);
const WIDE: (u32, u32) = (1120, 320);

const FONT: &str = "sans-serif";
const INK: RGBColor = RGBColor(0x33, 0x33, 0x33);
const GRID: RGBColor = RGBColor(0xe4, 0xe4, 0xe4);
const BLUE: RGBColor = RGBColor(0x1f, 0x5f, 0xa8);
const TEAL: RGBColor = RGBColor(0x2a, 0x8c, 0x82);
const PALE: RGBColor = RGBColor(0xa9, 0xc4, 0xe4);
const AMBER: RGBColor = RGBColor(0xe0, 0x9b, 0x1a);
const RED: RGBColor = RGBColor(0xc0, 0x39, 0x2b);

/// The colour of a status, here and in the page's legend.
pub fn status_color(s: Status) -> RGBColor {
    match s {
        Status::Valid | Status::Created => RGBColor(0x2e, 0x8b, 0x57),
        Status::Updated => RGBColor(0x4c, 0xa8, 0x6f),
        Status::Unchanged => RGBColor(0x9c, 0xcf, 0xa8),
        Status::Invalid => AMBER,
        Status::Failed => RED,
        Status::Uncertain => RGBColor(0x7d, 0x4e, 0xa8),
        Status::NotSent => RGBColor(0x9e, 0x9e, 0x9e),
    }
}

/// `#rrggbb`, for the page's CSS.
pub fn css(c: RGBColor) -> String {
    format!("#{:02x}{:02x}{:02x}", c.0, c.1, c.2)
}

type Drawn = Result<(), String>;

fn err(e: impl std::fmt::Debug) -> String {
    format!("{e:?}")
}

/// Draws into an SVG of `size` and returns its text.
fn svg(
    size: (u32, u32),
    draw: impl FnOnce(DrawingArea<SVGBackend, plotters::coord::Shift>) -> Drawn,
) -> Result<String, String> {
    let mut buf = String::new();
    {
        let root = SVGBackend::with_string(&mut buf, size).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        draw(root.clone())?;
        root.present().map_err(err)?;
    }
    Ok(buf)
}

fn label_font(size: u32) -> TextStyle<'static> {
    (FONT, size).into_font().color(&INK)
}

/// The size of the axes' labels, and of the values written by the bars.
const LABEL: u32 = 15;
const VALUE: u32 = 14;
/// Every chart's margin, on each side.
const MARGIN: u32 = 12;
/// From an axis to its labels' near end, as plotters leaves it.
const LABEL_GAP: f64 = 10.0;
/// Room for an axis' description, set sideways at the label area's far
/// edge, and a little air.
const DESC_ROOM: f64 = 22.0;
/// Kept clear at the chart's edges.
const EDGE: f64 = 2.0;

/// The pixel size of a font of `size` in plotters' SVG, which sets text at
/// 1/1.24 of the size it is given.
fn font_px(size: u32) -> f64 {
    f64::from(size) / 1.24
}

/// The width of the widest label an axis from 0 to `top` may write: the
/// widest of its values at a dozen points, plus a digit, for the round
/// values plotters picks between them.
fn widest_axis_label(top: f64, label: impl Fn(f64) -> String) -> f64 {
    let px = font_px(LABEL);
    let widest = (0..=12)
        .map(|i| text::width(&label(top * f64::from(i) / 12.0), px))
        .fold(0.0, f64::max);
    widest + text::width("0", px)
}

/// A label area for a vertical axis wide enough for its labels and its
/// description.
fn y_label_area(top: f64, label: impl Fn(f64) -> String, at_least: u32) -> u32 {
    let needed = DESC_ROOM + widest_axis_label(top, label) + LABEL_GAP + EDGE;
    (needed.ceil() as u32).max(at_least)
}

/// Whether a label centred at `x` fits in a chart `width` wide.
fn fits_centred(label: &str, x: f64, width: u32) -> bool {
    let half = text::width(label, font_px(LABEL)) / 2.0;
    x - half >= EDGE && x + half <= f64::from(width) - EDGE
}

/// One horizontal bar of every status, each as long as its share of rows.
pub fn status_bar(counts: &[(Status, u64)]) -> Result<String, String> {
    let total: u64 = counts.iter().map(|c| c.1).sum();
    let (w, h) = (WIDE.0, 44);
    let bar = svg((w, h), |root| {
        if total == 0 {
            return Ok(());
        }
        let mut x = 0f64;
        for (status, n) in counts.iter().filter(|c| c.1 > 0) {
            let width = f64::from(w) * (*n as f64) / (total as f64);
            let (x0, x1) = (
                x.round() as i32,
                (x + width).round().max(x.round() + 1.0) as i32,
            );
            root.draw(&Rectangle::new(
                [(x0, 4), (x1, h as i32 - 4)],
                status_color(*status).filled(),
            ))
            .map_err(err)?;
            x += width;
        }
        Ok(())
    })?;
    // Stretched to the page's width, however wide that is.
    Ok(bar.replacen("<svg ", "<svg preserveAspectRatio=\"none\" ", 1))
}

/// Bars over labelled categories.
struct Bars<'a> {
    labels: Vec<String>,
    values: Vec<f64>,
    /// Each bar's value as written above it.
    shown: Vec<String>,
    color: RGBColor,
    y_desc: &'a str,
    /// The values are counts: no fractions on the axis.
    counts: bool,
}

/// Draws bars with each one's value written above it.
fn bars(b: Bars<'_>, lang: Lang) -> Result<String, String> {
    let Bars {
        labels,
        values,
        shown,
        color,
        y_desc,
        counts,
    } = b;
    let size = SIZE;
    let top = values.iter().cloned().fold(0f64, f64::max).max(1.0) * 1.15;
    let y_label = |y: &f64| axis_label(lang, *y, counts);
    let y_area = y_label_area(top, |y| y_label(&y), 64);
    svg(size, |root| {
        let mut chart = ChartBuilder::on(&root)
            .margin(MARGIN)
            .x_label_area_size(34)
            .y_label_area_size(y_area)
            .build_cartesian_2d((0..labels.len()).into_segmented(), 0f64..top)
            .map_err(err)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(WHITE)
            .bold_line_style(GRID)
            .axis_style(INK)
            .x_labels(labels.len())
            .x_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) => labels.get(*i).cloned().unwrap_or_default(),
                _ => String::new(),
            })
            .y_labels(6)
            .y_label_formatter(&y_label)
            .y_desc(y_desc)
            .label_style(label_font(LABEL))
            .axis_desc_style(label_font(LABEL))
            .draw()
            .map_err(err)?;
        chart
            .draw_series(values.iter().enumerate().map(|(i, v)| {
                let mut bar = Rectangle::new(
                    [
                        (SegmentValue::Exact(i), 0.0),
                        (SegmentValue::Exact(i + 1), *v),
                    ],
                    color.filled(),
                );
                bar.set_margin(0, 0, 8, 8);
                bar
            }))
            .map_err(err)?;
        let above = label_font(VALUE).pos(Pos::new(HPos::Center, VPos::Bottom));
        chart
            .draw_series(
                values
                    .iter()
                    .zip(shown)
                    .enumerate()
                    .filter(|(_, (v, _))| **v > 0.0)
                    .map(|(i, (v, s))| {
                        Text::new(
                            s.clone(),
                            (SegmentValue::CenterOf(i), *v + top * 0.01),
                            above.clone(),
                        )
                    }),
            )
            .map_err(err)?;
        Ok(())
    })
}

/// An axis label; a count's axis has no fractions (no "0.5 rows").
fn axis_label(lang: Lang, y: f64, counts: bool) -> String {
    if counts && y.fract().abs() > 1e-9 {
        String::new()
    } else {
        format::compact(lang, y)
    }
}

fn dpd_labels() -> Vec<String> {
    DPD_BUCKETS
        .iter()
        .map(|(first, last)| match last {
            Some(l) if l == first => first.to_string(),
            Some(l) => format!("{first}–{l}"),
            None => format!(">{}", first - 1),
        })
        .collect()
}

/// Obligations per days-past-due bucket.
pub fn dpd_obligations(p: &Portfolio, lang: Lang, y_desc: &str) -> Result<String, String> {
    let values: Vec<f64> = p.by_dpd.iter().map(|t| t.obligations as f64).collect();
    let shown: Vec<String> = p
        .by_dpd
        .iter()
        .map(|t| format::int(lang, t.obligations))
        .collect();
    bars(
        Bars {
            labels: dpd_labels(),
            values,
            shown,
            color: BLUE,
            y_desc,
            counts: true,
        },
        lang,
    )
}

/// Total balance per days-past-due bucket.
pub fn dpd_balance(p: &Portfolio, lang: Lang, y_desc: &str) -> Result<String, String> {
    let values: Vec<f64> = p.by_dpd.iter().map(|t| t.balance.value()).collect();
    let shown: Vec<String> = values.iter().map(|v| format::compact(lang, *v)).collect();
    bars(
        Bars {
            labels: dpd_labels(),
            values,
            shown,
            color: TEAL,
            y_desc,
            counts: false,
        },
        lang,
    )
}

/// Types shown by name in the chart; the rest are one bar.
const TYPE_BARS: usize = 10;

/// The room for the names of portfolio types, left of their bars.
const TYPE_LABELS: u32 = 180;

/// Total balance per portfolio type, largest first, as horizontal bars.
///
/// The types' names are the file's, of any length: each is fitted to the
/// room left of its bar by its estimated width and cut with an ellipsis,
/// its whole name kept in a tooltip. The bars leave room on their right
/// for the amounts written after them.
pub fn balance_by_type(
    p: &Portfolio,
    lang: Lang,
    others: &str,
    none: &str,
) -> Result<String, String> {
    let rows = type_rows(p, others, none);
    let shown: Vec<String> = rows
        .iter()
        .map(|(_, v)| format!(" {}", format::compact(lang, *v)))
        .collect();
    let height = (60 + 34 * rows.len().max(1) as u32).max(160);
    let mut name_ends = Vec::new();
    let chart = svg((SIZE.0, height), |root| {
        name_ends = draw_type_bars(&root, &rows, &shown, lang)?;
        Ok(())
    })?;
    let labels: Vec<String> = rows
        .iter()
        .zip(name_ends)
        .map(|((name, _), (x, y))| type_label(name, f64::from(x) - LABEL_GAP, y))
        .collect();
    let end = chart.rfind("</svg>").ok_or("no </svg> in the chart")?;
    Ok(format!(
        "{}{}{}",
        &chart[..end],
        labels.concat(),
        &chart[end..]
    ))
}

/// The bars of the types chart, largest first: the [`TYPE_BARS`] largest
/// types by name, then the rows with no type, then all other types as one.
fn type_rows<'a>(p: &'a Portfolio, others: &'a str, none: &'a str) -> Vec<(&'a str, f64)> {
    let mut rows: Vec<(&str, f64)> = Vec::new();
    let types = p.types_by_balance();
    let mut rest = p.other_types.balance.value();
    for (i, (name, t)) in types.iter().enumerate() {
        if i < TYPE_BARS {
            rows.push((name, t.balance.value()));
        } else {
            rest += t.balance.value();
        }
    }
    if p.no_type.obligations > 0 {
        rows.push((none, p.no_type.balance.value()));
    }
    if rest != 0.0 || p.other_types.obligations > 0 {
        rows.push((others, rest));
    }
    rows
}

/// Draws the types' bars, each with its amount written after it, and
/// returns where each bar's name is to end (its axis end, in pixels): the
/// names are written afterwards, fitted to their room.
fn draw_type_bars(
    root: &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
    rows: &[(&str, f64)],
    shown: &[String],
    lang: Lang,
) -> Result<Vec<(i32, i32)>, String> {
    let n = rows.len().max(1);
    let left = f64::from(MARGIN + TYPE_LABELS);
    let plot = f64::from(SIZE.0 - 2 * MARGIN - TYPE_LABELS) - 1.0;
    let right = type_axis_end(rows, shown, plot);
    let mut chart = ChartBuilder::on(root)
        .margin(MARGIN)
        .x_label_area_size(30)
        .y_label_area_size(TYPE_LABELS)
        .build_cartesian_2d(0f64..right, (0..n).into_segmented())
        .map_err(err)?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .light_line_style(WHITE)
        .bold_line_style(GRID)
        .axis_style(INK)
        .y_labels(n)
        // The names are written afterwards, fitted to their room.
        .y_label_formatter(&|_| String::new())
        .x_labels(5)
        .x_label_formatter(&|x| {
            let label = format::compact(lang, *x);
            let at = left + plot * x / right;
            if fits_centred(&label, at, SIZE.0) {
                label
            } else {
                String::new()
            }
        })
        .label_style(label_font(LABEL))
        .draw()
        .map_err(err)?;
    chart
        .draw_series(rows.iter().enumerate().map(|(i, (_, v))| {
            let at = n - 1 - i;
            let mut bar = Rectangle::new(
                [
                    (0.0, SegmentValue::Exact(at)),
                    (v.max(0.0), SegmentValue::Exact(at + 1)),
                ],
                TEAL.filled(),
            );
            bar.set_margin(6, 6, 0, 0);
            bar
        }))
        .map_err(err)?;
    let after = label_font(VALUE).pos(Pos::new(HPos::Left, VPos::Center));
    chart
        .draw_series(rows.iter().zip(shown).enumerate().map(|(i, ((_, v), s))| {
            Text::new(
                s.clone(),
                (v.max(0.0), SegmentValue::CenterOf(n - 1 - i)),
                after.clone(),
            )
        }))
        .map_err(err)?;
    // Largest at the top: the y axis counts upwards.
    Ok((0..rows.len())
        .map(|i| chart.backend_coord(&(0.0, SegmentValue::CenterOf(n - 1 - i))))
        .collect())
}

/// The end of the axis of balances: past the largest bar, so far that each
/// bar's amount, written after it, ends inside the plot `plot` pixels wide.
fn type_axis_end(rows: &[(&str, f64)], shown: &[String], plot: f64) -> f64 {
    let px = font_px(VALUE);
    rows.iter()
        .zip(shown)
        .filter(|((_, v), _)| *v > 0.0)
        .map(|((_, v), s)| {
            // v / end * plot + width <= plot - EDGE
            let room = plot - EDGE - text::width(s, px);
            if room > 0.0 {
                v * plot / room
            } else {
                *v * 2.0
            }
        })
        .fold(1.0, f64::max)
}

/// A type's name, right-aligned to end at `x` and fitted to the room from
/// the chart's left edge, as SVG; a cut name has its whole text as a
/// tooltip.
fn type_label(name: &str, x: f64, y: i32) -> String {
    let px = font_px(LABEL);
    let (label, cut) = text::fit(name, x - EDGE, px);
    let title = if cut {
        format!("<title>{}</title>", text::escape(&text::one_line(name)))
    } else {
        String::new()
    };
    format!(
        "<g class=\"type-label\">{title}<text x=\"{x}\" y=\"{y}\" dy=\"0.5ex\" text-anchor=\"end\" \
         font-family=\"{FONT}\" font-size=\"{px}\" fill=\"{}\">{}</text></g>\n",
        css(INK),
        text::escape(&label)
    )
}

/// Obligations by balance, in bins of a quarter of a power of ten, over the
/// decades that hold any.
pub fn balance_histogram(h: &LogHistogram, lang: Lang, y_desc: &str) -> Result<String, String> {
    let k = BINS_PER_DECADE as usize;
    let used: Vec<usize> = (0..h.bins.len()).filter(|i| h.bins[*i] > 0).collect();
    let (first, last) = match (used.first(), used.last()) {
        (Some(f), Some(l)) => (f / k, l / k + 1),
        _ => (0, 1),
    };
    let top = h.bins.iter().copied().max().unwrap_or(0).max(1) as f64 * 1.1;
    let decade = |d: usize| format::compact(lang, 10f64.powi(d as i32));
    let y_area = y_label_area(top, |y| axis_label(lang, y, true), 64);
    // The last decade's label is centred on the plot's right edge.
    let half_last = text::width(&decade(last), font_px(LABEL)) / 2.0 + EDGE;
    svg(SIZE, |root| {
        let mut chart = ChartBuilder::on(&root)
            .margin(MARGIN)
            .margin_right((half_last.ceil() as u32).max(24))
            .x_label_area_size(34)
            .y_label_area_size(y_area)
            .build_cartesian_2d(first as f64..last as f64, 0f64..top)
            .map_err(err)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(WHITE)
            .bold_line_style(GRID)
            .axis_style(INK)
            .x_labels(last - first + 1)
            .x_label_formatter(&|x| {
                if (x - x.round()).abs() < 1e-6 {
                    decade(x.round() as usize)
                } else {
                    String::new()
                }
            })
            .y_labels(6)
            .y_label_formatter(&|y| axis_label(lang, *y, true))
            .y_desc(y_desc)
            .label_style(label_font(LABEL))
            .axis_desc_style(label_font(LABEL))
            .draw()
            .map_err(err)?;
        chart
            .draw_series((first * k..last * k).filter(|i| h.bins[*i] > 0).map(|i| {
                let x0 = i as f64 / k as f64;
                let x1 = (i + 1) as f64 / k as f64;
                let mut bar = Rectangle::new([(x0, 0.0), (x1, h.bins[i] as f64)], BLUE.filled());
                bar.set_margin(0, 0, 1, 1);
                bar
            }))
            .map_err(err)?;
        Ok(())
    })
}

/// Rows finished per minute, interval by interval: rows that needed
/// requests, rows settled without one above them, and a mark above each
/// interval with retries (amber) or throttling answers (red).
pub fn timeline(t: &Timeline, lang: Lang, y_desc: &str) -> Result<String, String> {
    let width = t.width().as_secs_f64();
    let per_min = |n: u64| n as f64 * 60.0 / width;
    let slots = t.slots();
    let n = slots.len().max(1);
    let top = slots
        .iter()
        .map(|s| per_min(s.sent + s.settled))
        .fold(0f64, f64::max)
        .max(1.0)
        * 1.25;
    let every = n.div_ceil(8).max(1);
    let y_area = y_label_area(top, |y| format::compact(lang, y), 72);
    let left = f64::from(MARGIN + y_area);
    let plot = f64::from(WIDE.0 - 2 * MARGIN - y_area);
    svg(WIDE, |root| {
        let mut chart = ChartBuilder::on(&root)
            .margin(MARGIN)
            .x_label_area_size(34)
            .y_label_area_size(y_area)
            .build_cartesian_2d((0..n).into_segmented(), 0f64..top)
            .map_err(err)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(WHITE)
            .bold_line_style(GRID)
            .axis_style(INK)
            .x_labels(n)
            .x_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) if i % every == 0 => {
                    let label = format::duration(lang, t.width() * *i as u32);
                    let at = left + plot * (*i as f64 + 0.5) / n as f64;
                    if fits_centred(&label, at, WIDE.0) {
                        label
                    } else {
                        String::new()
                    }
                }
                _ => String::new(),
            })
            .y_labels(6)
            .y_label_formatter(&|y| format::compact(lang, *y))
            .y_desc(y_desc)
            .label_style(label_font(LABEL))
            .axis_desc_style(label_font(LABEL))
            .draw()
            .map_err(err)?;
        draw_timeline_series(&mut chart, slots, per_min, top)
    })
}

/// The coordinates of the timeline: one segment per interval.
type TimelineChart<'a, 'b> = ChartContext<
    'a,
    SVGBackend<'b>,
    Cartesian2d<
        plotters::coord::ranged1d::SegmentedCoord<plotters::coord::types::RangedCoordusize>,
        plotters::coord::types::RangedCoordf64,
    >,
>;

/// The timeline's bars (sent, then settled above them) and its marks
/// (retries, throttling) above each interval.
fn draw_timeline_series(
    chart: &mut TimelineChart<'_, '_>,
    slots: &[super::timeline::Slot],
    per_min: impl Fn(u64) -> f64,
    top: f64,
) -> Drawn {
    let n = slots.len().max(1);
    let bar = |i: usize, y0: f64, y1: f64, c: RGBColor| {
        let mut r = Rectangle::new(
            [
                (SegmentValue::Exact(i), y0),
                (SegmentValue::Exact(i + 1), y1),
            ],
            c.filled(),
        );
        let gap = if n > 60 { 0 } else { 2 };
        r.set_margin(0, 0, gap, gap);
        r
    };
    chart
        .draw_series(
            slots
                .iter()
                .enumerate()
                .map(|(i, s)| bar(i, 0.0, per_min(s.sent), BLUE)),
        )
        .map_err(err)?;
    chart
        .draw_series(
            slots
                .iter()
                .enumerate()
                .filter(|(_, s)| s.settled > 0)
                .map(|(i, s)| bar(i, per_min(s.sent), per_min(s.sent + s.settled), PALE)),
        )
        .map_err(err)?;
    let mark_y = |s: &super::timeline::Slot, lift: f64| per_min(s.sent + s.settled) + top * lift;
    chart
        .draw_series(
            slots
                .iter()
                .enumerate()
                .filter(|(_, s)| s.retries > 0)
                .map(|(i, s)| {
                    Circle::new(
                        (SegmentValue::CenterOf(i), mark_y(s, 0.05)),
                        5,
                        AMBER.filled(),
                    )
                }),
        )
        .map_err(err)?;
    chart
        .draw_series(
            slots
                .iter()
                .enumerate()
                .filter(|(_, s)| s.throttled > 0)
                .map(|(i, s)| {
                    TriangleMarker::new(
                        (SegmentValue::CenterOf(i), mark_y(s, 0.12)),
                        6,
                        RED.filled(),
                    )
                }),
        )
        .map_err(err)?;
    Ok(())
}

/// The timeline's colours, for the page's legend: rows sent, rows settled
/// without a request, retries, throttling.
pub fn timeline_colors() -> [String; 4] {
    [css(BLUE), css(PALE), css(AMBER), css(RED)]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::ReportFields;
    use crate::report::portfolio::MappedFields;
    use std::time::{Duration, Instant};

    /// One `<text>` of a chart: where it is anchored, and what it says.
    #[derive(Debug)]
    struct Written {
        x: f64,
        y: f64,
        anchor: String,
        px: f64,
        /// Set upwards (an axis' description).
        upwards: bool,
        text: String,
    }

    fn attr(tag: &str, name: &str) -> Option<String> {
        let key = format!(" {name}=\"");
        let at = tag.find(&key)? + key.len();
        Some(tag[at..at + tag[at..].find('"')?].to_string())
    }

    fn number(tag: &str, name: &str) -> f64 {
        attr(tag, name)
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {name} in {tag}"))
    }

    fn unescape(s: &str) -> String {
        s.replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&apos;", "'")
            .replace("&#39;", "'")
            .replace("&amp;", "&")
    }

    fn texts(svg: &str) -> Vec<Written> {
        let mut out = Vec::new();
        let mut rest = svg;
        while let Some(at) = rest.find("<text ") {
            rest = &rest[at..];
            let open = &rest[..=rest.find('>').unwrap()];
            let end = rest.find("</text>").unwrap();
            let text = unescape(rest[open.len()..end].trim_matches('\n'));
            out.push(Written {
                x: number(open, "x"),
                y: number(open, "y"),
                anchor: attr(open, "text-anchor").unwrap_or_else(|| "start".into()),
                px: number(open, "font-size"),
                upwards: attr(open, "transform").is_some_and(|t| t.starts_with("rotate(270")),
                text,
            });
            rest = &rest[end..];
        }
        out
    }

    /// Every text of a chart lies inside its viewBox, by its estimated
    /// width.
    fn assert_inside(svg: &str, what: &str) -> Vec<Written> {
        let head = &svg[..svg.find('>').unwrap()];
        let (w, h) = (number(head, "width"), number(head, "height"));
        assert_eq!(attr(head, "viewBox"), Some(format!("0 0 {w} {h}")));
        let texts = texts(svg);
        assert!(!texts.is_empty(), "{what} has no text");
        for t in &texts {
            let tw = text::width(&t.text, t.px);
            let (along, edge) = if t.upwards { (t.y, h) } else { (t.x, w) };
            let (from, to) = match (t.anchor.as_str(), t.upwards) {
                ("middle", _) => (along - tw / 2.0, along + tw / 2.0),
                ("start", false) | ("end", true) => (along, along + tw),
                _ => (along - tw, along),
            };
            assert!(
                from >= 0.0 && to <= edge,
                "{what}: {:?} spans {from:.1}..{to:.1} of 0..{edge}",
                t.text
            );
        }
        texts
    }

    fn fields(balance: f64, days: i64, t: Option<&str>) -> ReportFields {
        ReportFields {
            total_balance: Some(balance),
            days_delay: Some(days),
            portfolio_type: t.map(str::to_string),
        }
    }

    fn portfolio(rows: &[(f64, i64, Option<&str>)]) -> Portfolio {
        let mut p = Portfolio::new(MappedFields {
            total_balance: true,
            days_delay: true,
            portfolio_type: true,
        });
        for (i, (b, d, t)) in rows.iter().enumerate() {
            p.add_fields(i as u64 + 2, "OB", &fields(*b, *d, *t));
        }
        p
    }

    const LONG_TYPES: [&str; 8] = [
        "Consumo",
        "WWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWW",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "<script>alert(\"t\")</script> & 'más'",
        "Libranza pensionados Colpensiones y Fuerzas Militares",
        "消費者ローン（個人向け）長期延滞債権",
        "🏦💰🏦💰🏦💰🏦💰🏦💰🏦💰🏦💰🏦💰",
        "Vivienda\nVIS\t  con subsidio",
    ];

    #[test]
    fn type_names_fit_their_room_and_keep_their_whole_text() {
        let mut rows: Vec<(f64, i64, Option<&str>)> = LONG_TYPES
            .iter()
            .enumerate()
            .map(|(i, t)| (9.5e11 - i as f64 * 1e11, 10, Some(*t)))
            .collect();
        rows.push((123.0, 5, None));
        let p = portfolio(&rows);
        for lang in [Lang::Es, Lang::En] {
            let svg = balance_by_type(&p, lang, "Other types", "(no type)").unwrap();
            assert!(!svg.contains("<script"), "{svg}");
            let texts = assert_inside(&svg, "balance by type");
            // A name per bar, the one without a type too.
            let labels: Vec<&str> = svg
                .match_indices("<g class=\"type-label\">")
                .map(|(at, _)| &svg[at..at + svg[at..].find("</g>").unwrap()])
                .collect();
            assert_eq!(labels.len(), LONG_TYPES.len() + 1);
            // The names come last, in the bars' order.
            let names = &texts[texts.len() - labels.len()..];
            let kept = p.types_by_balance();
            let kept = kept.iter().map(|(name, _)| *name).chain(["(no type)"]);
            for ((label, t), name) in labels.iter().zip(names).zip(kept) {
                let room = t.x - EDGE;
                let shown = text::width(&t.text, t.px);
                assert!(shown <= room, "{name:?}: {shown:.1} px in {room:.1}");
                let whole = text::one_line(name);
                if t.text == whole {
                    assert!(!label.contains("<title>"), "{label}");
                } else {
                    // Cut where it had to be, and whole in its tooltip.
                    assert!(t.text.ends_with(text::ELLIPSIS), "{:?}", t.text);
                    assert!(whole.starts_with(t.text.trim_end_matches(text::ELLIPSIS)));
                    assert!(
                        label.contains(&format!("<title>{}</title>", text::escape(&whole))),
                        "{label}"
                    );
                }
            }
            for short in ["Consumo", "(no type)"] {
                assert!(texts.iter().any(|t| t.text == short), "{short}");
            }
            for cut in [1, 2, 4, 5, 6] {
                assert!(
                    !texts.iter().any(|t| t.text == LONG_TYPES[cut]),
                    "{} was not cut",
                    LONG_TYPES[cut]
                );
            }
        }
    }

    #[test]
    fn every_chart_keeps_its_text_inside() {
        // Balances up to the histogram's last decade, sums in the trillions.
        let mut rows = Vec::new();
        for i in 0..60 {
            let b = 10f64.powf(i as f64 / 5.0) * 1.5;
            rows.push((b, i * 13, Some(LONG_TYPES[i as usize % LONG_TYPES.len()])));
        }
        rows.push((9.9e11, 400, Some("Consumo")));
        for _ in 0..8 {
            rows.push((9.0e11, 45, Some("Comercial")));
        }
        let p = portfolio(&rows);
        let mut t = Timeline::new(Instant::now());
        let t0 = Instant::now();
        for s in (0..30 * 3600).step_by(97) {
            t.row_done(t0 + Duration::from_secs(s), s % 2 == 0, 1, 1);
        }
        for lang in [Lang::Es, Lang::En] {
            let charts = [
                ("dpd obligations", dpd_obligations(&p, lang, "Obligations")),
                ("dpd balance", dpd_balance(&p, lang, "Total balance")),
                ("by type", balance_by_type(&p, lang, "Other", "(none)")),
                (
                    "histogram",
                    balance_histogram(&p.histogram, lang, "Obligations"),
                ),
                ("timeline", timeline(&t, lang, "Rows per minute")),
            ];
            for (what, svg) in charts {
                assert_inside(&svg.unwrap(), what);
            }
        }
    }
}
