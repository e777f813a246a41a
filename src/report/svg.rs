//! The data-flow diagram of the HTML report: an inline SVG laid out here, with no external tool.
//!
//! A simplified layered (Sugiyama-style) layout: cycles are broken by ignoring the back edges a
//! depth-first search finds; each node's layer is its longest path from the sources (data subjects
//! are always in layer 0); nodes are ordered within their layer by the barycentre of their
//! neighbours over a few sweeps; layers are placed left to right. Edges are cubic Béziers with
//! arrowheads; an edge with gaps is thicker, drawn in the colour of its worst severity and
//! labelled with the flow id, the number of rules and the severity in words, so that its meaning
//! does not rest on colour. Everything is linear-ish in nodes and edges (the sorts aside), uses
//! no hash maps, and rounds coordinates to integers, so the output is deterministic.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::overview::Graph;
use crate::engine::Severity;

/// Above this many nodes the diagram is left out (the tables still show everything).
pub const MAX_NODES: usize = 150;

const NODE_W: i64 = 160;
const GAP_X: i64 = 125;
const MARGIN: i64 = 20;
const LINE_H: i64 = 15;
const PAD_Y: i64 = 8;
const GAP_Y: i64 = 26;
const UNCONNECTED_GAP: i64 = 16;
const CHARS_PER_LINE: usize = 19;
const MAX_LINES: usize = 3;
const LABEL_LINE_H: i64 = 13;
const LABEL_CHARS: usize = 22;
const SWEEPS: usize = 4;
const BACK_BOW: i64 = 40;
const LEGEND_H: i64 = 64;
const LEGEND_MIN_W: i64 = 600;

/// Colour of edges carrying no gap.
pub const NO_GAP: &str = "#6b7280";

/// The colour of a severity (each has a contrast of at least 4.5:1 on white).
pub fn colour(sev: Severity) -> &'static str {
    match sev {
        Severity::Critical => "#b00020",
        Severity::High => "#c2410c",
        Severity::Medium => "#a16207",
        Severity::Low => "#1d4ed8",
        Severity::Info => "#4b5563",
    }
}

/// Escapes text for SVG/HTML text and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// A node's box.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rect {
    pub x: i64,
    pub y: i64,
    pub w: i64,
    pub h: i64,
}

/// The computed layout, by index in `graph.nodes`.
#[derive(Debug)]
pub struct Layout {
    /// The layer (column) of each node.
    pub layer: Vec<usize>,
    /// The nodes of each layer, top to bottom.
    pub order: Vec<Vec<usize>>,
    /// Each node's box.
    pub boxes: Vec<Rect>,
    /// Each node's label, wrapped.
    pub lines: Vec<Vec<String>>,
    /// Per edge of `graph.edges`: its two node indices, or `None` when an end is not a node.
    pub ends: Vec<Option<(usize, usize)>>,
    /// The nodes in no flow, in a row below the others.
    pub unconnected: Vec<usize>,
    /// The baseline of the caption above that row.
    pub unconnected_y: Option<i64>,
    /// Height of the node area.
    pub height: i64,
}

/// Wraps a label into at most `MAX_LINES` lines of about `width` characters, at spaces when it
/// can; the last line ends with `…` when the label is cut.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut cur = String::new();
    let mut cut = false;
    for word in text.split_whitespace() {
        let mut word: Vec<char> = word.chars().collect();
        loop {
            let cur_len = cur.chars().count();
            let sep = usize::from(cur_len > 0);
            if cur_len + sep + word.len() <= width {
                if sep == 1 {
                    cur.push(' ');
                }
                cur.extend(word.iter());
                break;
            }
            if cur_len > 0 {
                lines.push(std::mem::take(&mut cur));
                continue;
            }
            // A word longer than a line: split it.
            let rest = word.split_off(width);
            lines.push(word.iter().collect());
            word = rest;
        }
        if lines.len() > MAX_LINES {
            cut = true;
            break;
        }
    }
    if !cur.is_empty() {
        lines.push(cur);
    }
    if lines.len() > MAX_LINES {
        lines.truncate(MAX_LINES);
        cut = true;
    }
    if cut && let Some(last) = lines.last_mut() {
        let mut chars: Vec<char> = last.chars().collect();
        chars.truncate(width.saturating_sub(1));
        while chars.last() == Some(&' ') {
            chars.pop();
        }
        *last = chars.into_iter().collect::<String>() + "…";
    }
    if lines.is_empty() {
        lines.push(String::new());
    }
    lines
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        s.chars().take(n.saturating_sub(1)).collect::<String>() + "…"
    }
}

/// Computes the layout of a graph.
pub fn layout(graph: &Graph) -> Layout {
    let n = graph.nodes.len();
    let mut index: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, node) in graph.nodes.iter().enumerate() {
        index.entry(node.id.as_str()).or_insert(i);
    }
    let ends: Vec<Option<(usize, usize)>> = graph
        .edges
        .iter()
        .map(|e| Some((*index.get(e.from.as_str())?, *index.get(e.to.as_str())?)))
        .collect();
    let is_subject: Vec<bool> = graph
        .nodes
        .iter()
        .map(|node| node.kind == "data_subject")
        .collect();

    let mut out: Vec<Vec<(usize, usize)>> = vec![Vec::new(); n];
    let mut indeg = vec![0usize; n];
    let mut neighbours: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (k, e) in ends.iter().enumerate() {
        if let Some((u, v)) = *e
            && u != v
        {
            out[u].push((k, v));
            indeg[v] += 1;
            neighbours[u].push(v);
            neighbours[v].push(u);
        }
    }

    // Break cycles: a DFS from the data subjects, then from the sources, then from the rest;
    // an edge to a node on the DFS stack, or into a data subject, is left out of the layering.
    let mut dag = vec![false; ends.len()];
    let mut state = vec![0u8; n]; // 0 new, 1 on the stack, 2 done
    let roots = (0..n)
        .filter(|&i| is_subject[i])
        .chain((0..n).filter(|&i| !is_subject[i] && indeg[i] == 0))
        .chain(0..n);
    for root in roots {
        if state[root] != 0 {
            continue;
        }
        state[root] = 1;
        let mut stack: Vec<(usize, usize)> = vec![(root, 0)];
        while let Some(top) = stack.last_mut() {
            let (u, next) = *top;
            if next == out[u].len() {
                state[u] = 2;
                stack.pop();
                continue;
            }
            top.1 += 1;
            let (k, v) = out[u][next];
            if is_subject[v] || state[v] == 1 {
                continue;
            }
            dag[k] = true;
            if state[v] == 0 {
                state[v] = 1;
                stack.push((v, 0));
            }
        }
    }

    // Longest path from the sources over the acyclic edges (Kahn's order).
    let mut layer = vec![0usize; n];
    let mut dag_in = vec![0usize; n];
    for (k, e) in ends.iter().enumerate() {
        if let (true, Some((_, v))) = (dag[k], e) {
            dag_in[*v] += 1;
        }
    }
    let has_dag_in: Vec<bool> = dag_in.iter().map(|&d| d > 0).collect();
    let mut queue: Vec<usize> = (0..n).filter(|&i| dag_in[i] == 0).collect();
    let mut head = 0;
    while head < queue.len() {
        let u = queue[head];
        head += 1;
        for &(k, v) in &out[u] {
            if dag[k] {
                layer[v] = layer[v].max(layer[u] + 1);
                dag_in[v] -= 1;
                if dag_in[v] == 0 {
                    queue.push(v);
                }
            }
        }
    }
    // A source that is not a data subject sits just before its nearest successor, so that its
    // edges stay short.
    for u in 0..n {
        if is_subject[u] || has_dag_in[u] {
            continue;
        }
        if let Some(min) = out[u]
            .iter()
            .filter(|&&(k, _)| dag[k])
            .map(|&(_, v)| layer[v])
            .min()
        {
            layer[u] = min.saturating_sub(1);
        }
    }

    // Order within layers: barycentre sweeps. Nodes in no flow are set apart, in a row below.
    let isolated: Vec<bool> = neighbours.iter().map(Vec::is_empty).collect();
    let layers = (0..n)
        .filter(|&i| !isolated[i])
        .map(|i| layer[i] + 1)
        .max()
        .unwrap_or(0);
    let mut order: Vec<Vec<usize>> = vec![Vec::new(); layers];
    for i in (0..n).filter(|&i| !isolated[i]) {
        order[layer[i]].push(i);
    }
    let unconnected: Vec<usize> = (0..n).filter(|&i| isolated[i]).collect();
    let mut pos = vec![0f64; n];
    let set_pos = |order: &Vec<Vec<usize>>, pos: &mut Vec<f64>| {
        for col in order {
            let mid = (col.len() as f64 - 1.0) / 2.0;
            for (j, &i) in col.iter().enumerate() {
                pos[i] = j as f64 - mid;
            }
        }
    };
    set_pos(&order, &mut pos);
    for sweep in 0..SWEEPS * 2 {
        let down = sweep % 2 == 0;
        let cols: Vec<usize> = if down {
            (0..layers).collect()
        } else {
            (0..layers).rev().collect()
        };
        for l in cols {
            let mut keyed: Vec<(f64, usize, usize)> = order[l]
                .iter()
                .enumerate()
                .map(|(j, &i)| {
                    let (mut sum, mut count) = (0.0, 0usize);
                    for &w in &neighbours[i] {
                        let side = if down { layer[w] < l } else { layer[w] > l };
                        if side {
                            sum += pos[w];
                            count += 1;
                        }
                    }
                    let key = if count > 0 {
                        sum / count as f64
                    } else {
                        pos[i]
                    };
                    (key, j, i)
                })
                .collect();
            keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            order[l] = keyed.into_iter().map(|(_, _, i)| i).collect();
            let mid = (order[l].len() as f64 - 1.0) / 2.0;
            for (j, &i) in order[l].iter().enumerate() {
                pos[i] = j as f64 - mid;
            }
        }
    }

    // Coordinates: layers left to right; within a layer, each node as close as the order and
    // the spacing allow to the mean height of its neighbours in other layers (a few alternating
    // passes, each an isotonic regression per layer).
    let lines: Vec<Vec<String>> = graph
        .nodes
        .iter()
        .map(|node| wrap(&node.label, CHARS_PER_LINE))
        .collect();
    let heights: Vec<i64> = lines
        .iter()
        .map(|l| PAD_Y * 2 + (l.len() as i64 + 1) * LINE_H)
        .collect();
    let mut top = vec![0f64; n];
    for col in &order {
        let mut y = 0.0;
        for &i in col {
            top[i] = y;
            y += (heights[i] + GAP_Y) as f64;
        }
    }
    for pass in 0..SWEEPS {
        let cols: Vec<usize> = if pass % 2 == 0 {
            (0..layers).collect()
        } else {
            (0..layers).rev().collect()
        };
        for l in cols {
            let col = &order[l];
            let desired: Vec<f64> = col
                .iter()
                .map(|&i| {
                    let (mut sum, mut count) = (0.0, 0usize);
                    for &w in &neighbours[i] {
                        if layer[w] != l {
                            sum += top[w] + heights[w] as f64 / 2.0;
                            count += 1;
                        }
                    }
                    if count == 0 {
                        top[i]
                    } else {
                        sum / count as f64 - heights[i] as f64 / 2.0
                    }
                })
                .collect();
            for (i, y) in col.iter().zip(spaced(&desired, col, &heights)) {
                top[*i] = y;
            }
        }
    }
    let min = top.iter().copied().fold(f64::INFINITY, f64::min);
    let min = if min.is_finite() { min } else { 0.0 };
    let mut boxes = vec![
        Rect {
            x: 0,
            y: 0,
            w: NODE_W,
            h: 0
        };
        n
    ];
    let mut height = 0;
    for (l, col) in order.iter().enumerate() {
        let mut floor = i64::MIN;
        for &i in col {
            // Rounding never brings two boxes closer than the spacing.
            let y = (MARGIN + (top[i] - min).round() as i64).max(floor);
            boxes[i] = Rect {
                x: MARGIN + l as i64 * (NODE_W + GAP_X),
                y,
                w: NODE_W,
                h: heights[i],
            };
            floor = y + heights[i] + GAP_Y;
            height = height.max(y + heights[i] - MARGIN);
        }
    }
    // The nodes in no flow: a row below (wrapped), under a caption.
    let mut unconnected_y = None;
    if !unconnected.is_empty() {
        let caption = if height > 0 { height + GAP_Y + 16 } else { 16 };
        unconnected_y = Some(MARGIN + caption - 6);
        let per_row =
            (layers.max(4) as i64 * (NODE_W + GAP_X) - GAP_X) / (NODE_W + UNCONNECTED_GAP);
        let per_row = per_row.max(1) as usize;
        let mut y = MARGIN + caption + 8;
        for row in unconnected.chunks(per_row) {
            let row_h = row.iter().map(|&i| heights[i]).max().unwrap_or(0);
            for (j, &i) in row.iter().enumerate() {
                boxes[i] = Rect {
                    x: MARGIN + j as i64 * (NODE_W + UNCONNECTED_GAP),
                    y,
                    w: NODE_W,
                    h: heights[i],
                };
            }
            y += row_h + UNCONNECTED_GAP;
        }
        height = y - UNCONNECTED_GAP - MARGIN;
    }
    Layout {
        layer,
        order,
        boxes,
        lines,
        ends,
        unconnected,
        unconnected_y,
        height,
    }
}

/// The tops closest (least squares) to `desired` that keep the nodes of a layer in order and
/// `GAP_Y` apart: an isotonic regression (pool adjacent violators) on the tops minus the room
/// the nodes above need.
fn spaced(desired: &[f64], col: &[usize], heights: &[i64]) -> Vec<f64> {
    let mut offset = Vec::with_capacity(col.len());
    let mut acc = 0.0;
    for &i in col {
        offset.push(acc);
        acc += (heights[i] + GAP_Y) as f64;
    }
    // Blocks of (sum, count), each with a mean no less than the one before.
    let mut blocks: Vec<(f64, usize)> = Vec::new();
    for (d, o) in desired.iter().zip(&offset) {
        let mut block = (d - o, 1usize);
        while let Some(&(sum, count)) = blocks.last() {
            if sum / count as f64 > block.0 / block.1 as f64 {
                blocks.pop();
                block = (block.0 + sum, block.1 + count);
            } else {
                break;
            }
        }
        blocks.push(block);
    }
    let mut out = Vec::with_capacity(col.len());
    for (sum, count) in blocks {
        for _ in 0..count {
            let j = out.len();
            out.push(sum / count as f64 + offset[j]);
        }
    }
    out
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Side {
    Left,
    Right,
}

fn kind_name(kind: &str) -> String {
    kind.replace('_', " ")
}

/// Renders the diagram as an inline `<svg>` (or a note when the graph is too big to draw).
pub fn render(graph: &Graph) -> String {
    if graph.nodes.len() > MAX_NODES {
        return format!(
            "<p class=\"diagram-omitted\">diagram omitted: {} nodes (more than {MAX_NODES}); \
             the tables below show every flow and gap.</p>\n",
            graph.nodes.len()
        );
    }
    if graph.nodes.is_empty() {
        return "<p class=\"diagram-omitted\">no data flows described.</p>\n".into();
    }
    let lay = layout(graph);
    let b = &lay.boxes;
    let cy = |i: usize| b[i].y + b[i].h / 2;

    // Ports: where each edge leaves and enters a node, spread along the side and sorted by the
    // position of the other end, so that parallel edges are offset and edges do not cross at
    // the node.
    struct End {
        edge: usize,
        src: bool,
        other_y: i64,
    }
    let mut sides: BTreeMap<(usize, Side), Vec<End>> = BTreeMap::new();
    let mut shape: Vec<Option<(Side, Side)>> = vec![None; graph.edges.len()];
    for (k, e) in lay.ends.iter().enumerate() {
        let Some((u, v)) = *e else { continue };
        let (su, sv) = if u == v || lay.layer[u] == lay.layer[v] {
            (Side::Right, Side::Right)
        } else if lay.layer[v] > lay.layer[u] {
            (Side::Right, Side::Left)
        } else {
            (Side::Left, Side::Right)
        };
        shape[k] = Some((su, sv));
        // Sort keys: the other end's height (an edge going back bows downwards, so it counts
        // as lower).
        let (yu, yv) = if u == v {
            (cy(u) - 1, cy(u) + 1)
        } else if su == Side::Left {
            (cy(v) + BACK_BOW, cy(u) + BACK_BOW)
        } else {
            (cy(v), cy(u))
        };
        sides.entry((u, su)).or_default().push(End {
            edge: k,
            src: true,
            other_y: yu,
        });
        sides.entry((v, sv)).or_default().push(End {
            edge: k,
            src: false,
            other_y: yv,
        });
    }
    let mut port: BTreeMap<(usize, bool), (i64, i64)> = BTreeMap::new();
    for ((node, side), mut list) in sides {
        list.sort_by_key(|e| (e.other_y, e.edge, !e.src));
        let r = b[node];
        let count = list.len() as i64;
        let spacing = if count > 1 {
            ((r.h - 12) / (count - 1)).clamp(1, 10)
        } else {
            0
        };
        let x = if side == Side::Right { r.x + r.w } else { r.x };
        for (j, e) in list.iter().enumerate() {
            let y = cy(node) + (2 * j as i64 - (count - 1)) * spacing / 2;
            port.insert((e.edge, e.src), (x, y));
        }
    }

    let legend_w = LEGEND_MIN_W;
    let width = (b.iter().map(|r| r.x + r.w).max().unwrap_or(0) + MARGIN).max(legend_w);
    let height = MARGIN * 2 + lay.height + LEGEND_H;

    let gap_edges = graph.edges.iter().filter(|e| e.worst.is_some()).count();
    let mut s = String::new();
    let _ = writeln!(
        s,
        "<svg class=\"dfd\" viewBox=\"0 0 {width} {height}\" width=\"{width}\" height=\"{height}\" \
         role=\"img\" aria-label=\"Data-flow diagram: {} nodes, {} flows, {gap_edges} with gaps\" \
         font-family=\"system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif\">",
        graph.nodes.len(),
        graph.edges.len()
    );
    let _ = writeln!(
        s,
        "<title>Data-flow diagram: {} nodes, {} flows, {gap_edges} with gaps</title>",
        graph.nodes.len(),
        graph.edges.len()
    );
    let _ = writeln!(
        s,
        "<desc>Parties, systems and data subjects as boxes, left to right in the order the data \
         flows; each flow is an arrow. A flow with gaps is thicker, coloured by its worst \
         severity and labelled with its id, the number of rules with gaps and the severity. \
         The flow and transfer tables give the same information as text.</desc>"
    );
    s.push_str("<defs>\n");
    let markers: Vec<(&str, &str)> = std::iter::once(("none", NO_GAP))
        .chain(Severity::ALL.iter().map(|sev| (sev.as_str(), colour(*sev))))
        .collect();
    for (name, fill) in &markers {
        let _ = writeln!(
            s,
            "<marker id=\"dfd-arrow-{name}\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" \
             markerUnits=\"userSpaceOnUse\" markerWidth=\"10\" markerHeight=\"10\" \
             orient=\"auto\"><path d=\"M0,0L10,5L0,10z\" fill=\"{fill}\"/></marker>"
        );
    }
    s.push_str("</defs>\n");

    // Edges: those without gaps first, then by severity, the worst on top.
    let mut drawn: Vec<usize> = (0..graph.edges.len())
        .filter(|&k| shape[k].is_some())
        .collect();
    drawn.sort_by_key(|&k| {
        (
            std::cmp::Reverse(graph.edges[k].worst.map_or(5, |w| w as usize)),
            k,
        )
    });
    struct Label {
        x: i64,
        /// The top of the label's two lines.
        top: i64,
        edge: usize,
    }
    let label_h = LABEL_LINE_H * 2 + 4;
    let mut labels: Vec<Label> = Vec::new();
    s.push_str("<g class=\"edges\" fill=\"none\">\n");
    for &k in &drawn {
        let e = &graph.edges[k];
        let Some((su, sv)) = shape[k] else { continue };
        let Some((u, v)) = lay.ends[k] else { continue };
        let (Some(&(x1, y1)), Some(&(x2, y2))) = (port.get(&(k, true)), port.get(&(k, false)))
        else {
            continue;
        };
        let (c1x, c2x) = match (su, sv) {
            (Side::Right, Side::Left) => {
                let dx = ((x2 - x1) / 2).max(30);
                (x1 + dx, x2 - dx)
            }
            (Side::Left, Side::Right) => {
                let dx = ((x1 - x2) / 2).max(30);
                (x1 - dx, x2 + dx)
            }
            _ => (x1 + 60, x2 + 60),
        };
        // A self-loop opens up and down; an edge going back bows downwards, away from the
        // edges going forward between the same layers.
        let back = su == Side::Left;
        let (c1y, c2y) = if u == v {
            (y1 - 24, y2 + 24)
        } else if back {
            (y1 + BACK_BOW, y2 + BACK_BOW)
        } else {
            (y1, y2)
        };
        let (name, stroke, width) = match e.worst {
            Some(w) => (w.as_str(), colour(w), 3),
            None => ("none", NO_GAP, 1),
        };
        let gaps = e.gaps.len();
        let tip = if gaps > 0 {
            format!(
                "{}: {} → {} ({}); {} rule{} with gaps, worst {}: {}",
                e.id,
                e.from,
                e.to,
                e.activity,
                gaps,
                if gaps == 1 { "" } else { "s" },
                name,
                e.gaps.join(", ")
            )
        } else {
            format!("{}: {} → {} ({}); no gap", e.id, e.from, e.to, e.activity)
        };
        let _ = writeln!(
            s,
            "<path d=\"M{x1},{y1} C{c1x},{c1y} {c2x},{c2y} {x2},{y2}\" stroke=\"{stroke}\" \
             stroke-width=\"{width}\" marker-end=\"url(#dfd-arrow-{name})\"><title>{}</title></path>",
            escape(&tip)
        );
        if e.worst.is_some() {
            // The curve's midpoint (t = 1/2).
            let mx = (x1 + 3 * c1x + 3 * c2x + x2) as f64 / 8.0;
            let my = (y1 + 3 * c1y + 3 * c2y + y2) as f64 / 8.0;
            // Above the midpoint; below it for an edge going back.
            let my = my.round() as i64;
            labels.push(Label {
                x: mx.round() as i64,
                top: if back { my + 5 } else { my - 5 - label_h },
                edge: k,
            });
        }
    }
    s.push_str("</g>\n");

    if let Some(y) = lay.unconnected_y {
        let _ = writeln!(
            s,
            "<text x=\"{MARGIN}\" y=\"{y}\" font-size=\"12\" font-weight=\"600\" \
             fill=\"#374151\">Not in any flow:</text>"
        );
    }
    // Nodes.
    s.push_str("<g class=\"nodes\">\n");
    for (i, node) in graph.nodes.iter().enumerate() {
        let r = b[i];
        let fill = match node.kind.as_str() {
            "data_subject" => "#dbeafe",
            "party" => "#fef3c7",
            "controller" => "#ede9fe",
            _ => "#f9fafb",
        };
        let kind = match &node.country {
            Some(c) => format!("{} · {c}", kind_name(&node.kind)),
            None => kind_name(&node.kind),
        };
        let _ = writeln!(
            s,
            "<g><title>{} ({}, id {})</title><rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" \
             rx=\"6\" fill=\"{fill}\" stroke=\"#374151\"/>",
            escape(&node.label),
            escape(&kind),
            escape(&node.id),
            r.x,
            r.y,
            r.w,
            r.h
        );
        let tx = r.x + r.w / 2;
        let mut ty = r.y + PAD_Y + LINE_H - 3;
        for line in &lay.lines[i] {
            let _ = writeln!(
                s,
                "<text x=\"{tx}\" y=\"{ty}\" text-anchor=\"middle\" font-size=\"12\" \
                 font-weight=\"600\" fill=\"#111827\">{}</text>",
                escape(line)
            );
            ty += LINE_H;
        }
        let _ = writeln!(
            s,
            "<text x=\"{tx}\" y=\"{ty}\" text-anchor=\"middle\" font-size=\"11\" \
             fill=\"#374151\">{}</text></g>",
            escape(&truncate(&kind, CHARS_PER_LINE + 4))
        );
    }
    s.push_str("</g>\n");

    // Labels of the edges with gaps, pushed apart where they would overlap.
    labels.sort_by_key(|l| (l.x / (NODE_W + GAP_X), l.top, l.edge));
    let mut last: Option<(i64, i64)> = None;
    for l in &mut labels {
        let bucket = l.x / (NODE_W + GAP_X);
        if let Some((lb, ly)) = last
            && lb == bucket
            && l.top < ly + label_h
        {
            l.top = ly + label_h;
        }
        last = Some((bucket, l.top));
    }
    labels.sort_by_key(|l| l.edge);
    s.push_str(
        "<g class=\"edge-labels\" font-size=\"11\" text-anchor=\"middle\" stroke=\"#ffffff\" \
         stroke-width=\"4\" paint-order=\"stroke\" stroke-linejoin=\"round\">\n",
    );
    for l in &labels {
        let e = &graph.edges[l.edge];
        let Some(w) = e.worst else { continue };
        let gaps = e.gaps.len();
        let y1 = l.top + LABEL_LINE_H - 2;
        let y2 = y1 + LABEL_LINE_H;
        let _ = writeln!(
            s,
            "<text x=\"{}\" y=\"{y1}\" fill=\"{}\" font-weight=\"600\">{}</text>",
            l.x,
            colour(w),
            escape(&truncate(&e.id, LABEL_CHARS))
        );
        let _ = writeln!(
            s,
            "<text x=\"{}\" y=\"{y2}\" fill=\"{}\">{gaps} rule{} · {}</text>",
            l.x,
            colour(w),
            if gaps == 1 { "" } else { "s" },
            w.as_str()
        );
    }
    s.push_str("</g>\n");

    // Legend.
    let ly = MARGIN * 2 + lay.height + 8;
    s.push_str("<g class=\"legend\" font-size=\"11\" fill=\"#111827\">\n");
    let _ = writeln!(
        s,
        "<text x=\"{MARGIN}\" y=\"{}\" font-weight=\"600\">Flows:</text>",
        ly + 4
    );
    let mut x = MARGIN + 48;
    for (name, stroke) in &markers {
        let (label, width) = if *name == "none" {
            ("no gap", 1)
        } else {
            (*name, 3)
        };
        let _ = writeln!(
            s,
            "<line x1=\"{x}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{stroke}\" \
             stroke-width=\"{width}\" marker-end=\"url(#dfd-arrow-{name})\"/>\
             <text x=\"{}\" y=\"{}\">{label}</text>",
            ly,
            x + 28,
            ly,
            x + 34,
            ly + 4
        );
        x += 34 + 8 * label.len() as i64 + 14;
    }
    let ly2 = ly + 26;
    let _ = writeln!(
        s,
        "<text x=\"{MARGIN}\" y=\"{}\" font-weight=\"600\">Boxes:</text>",
        ly2 + 4
    );
    let mut x = MARGIN + 48;
    for (kind, fill) in [
        ("data subject", "#dbeafe"),
        ("system", "#f9fafb"),
        ("party", "#fef3c7"),
        ("controller", "#ede9fe"),
    ] {
        let _ = writeln!(
            s,
            "<rect x=\"{x}\" y=\"{}\" width=\"22\" height=\"14\" rx=\"3\" fill=\"{fill}\" \
             stroke=\"#374151\"/><text x=\"{}\" y=\"{}\">{kind}</text>",
            ly2 - 7,
            x + 28,
            ly2 + 4
        );
        x += 28 + 7 * kind.len() as i64 + 18;
    }
    s.push_str("</g>\n</svg>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::overview::{GraphEdge, GraphNode};

    fn node(id: &str, kind: &str) -> GraphNode {
        GraphNode {
            id: id.into(),
            label: format!("Label of {id}"),
            kind: kind.into(),
            country: None,
        }
    }

    fn edge(id: &str, from: &str, to: &str, worst: Option<Severity>) -> GraphEdge {
        GraphEdge {
            id: id.into(),
            from: from.into(),
            to: to.into(),
            activity: "a".into(),
            access: "copy".into(),
            worst,
            gaps: worst.map(|_| vec!["R-1".to_string()]).unwrap_or_default(),
        }
    }

    fn sample() -> Graph {
        Graph {
            nodes: vec![
                node("ctl", "controller"),
                node("users", "data_subject"),
                node("app", "system"),
                node("db", "system"),
                node("vendor", "party"),
                node("lonely", "data_subject"),
            ],
            edges: vec![
                edge("e1", "users", "app", None),
                edge("e2", "app", "db", Some(Severity::High)),
                edge("e3", "db", "vendor", Some(Severity::Critical)),
                // A cycle back, and an edge back to the data subject.
                edge("e4", "vendor", "app", None),
                edge("e5", "vendor", "users", None),
                // Parallel edges.
                edge("e6", "app", "db", None),
            ],
        }
    }

    fn by_id(g: &Graph, id: &str) -> usize {
        g.nodes.iter().position(|n| n.id == id).expect("node")
    }

    #[test]
    fn layers_are_longest_paths_with_cycles_broken_and_subjects_first() {
        let g = sample();
        let lay = layout(&g);
        let l = |id: &str| lay.layer[by_id(&g, id)];
        assert_eq!(l("users"), 0);
        assert_eq!(l("lonely"), 0);
        assert_eq!(l("app"), 1);
        assert_eq!(l("db"), 2);
        assert_eq!(l("vendor"), 3);
        // The nodes in no flow are set apart; every other node is in exactly one layer.
        assert_eq!(lay.unconnected, vec![by_id(&g, "ctl"), by_id(&g, "lonely")]);
        let mut all: Vec<usize> = lay.order.concat();
        all.extend(&lay.unconnected);
        all.sort();
        assert_eq!(all, (0..g.nodes.len()).collect::<Vec<_>>());
    }

    #[test]
    fn a_source_that_is_not_a_data_subject_sits_before_its_successor() {
        let g = Graph {
            nodes: vec![
                node("s", "data_subject"),
                node("a", "system"),
                node("b", "system"),
                node("c", "system"),
                node("feed", "party"),
            ],
            edges: vec![
                edge("1", "s", "a", None),
                edge("2", "a", "b", None),
                edge("3", "b", "c", None),
                edge("4", "feed", "c", None),
            ],
        };
        let lay = layout(&g);
        assert_eq!(lay.layer[by_id(&g, "c")], 3);
        assert_eq!(lay.layer[by_id(&g, "feed")], 2);
    }

    #[test]
    fn nodes_in_a_layer_do_not_overlap() {
        let mut g = sample();
        for i in 0..30 {
            g.nodes.push(GraphNode {
                label: "a rather long label that wraps onto several lines of text".repeat(i % 3),
                ..node(&format!("n{i}"), "system")
            });
            g.edges
                .push(edge(&format!("x{i}"), "users", &format!("n{i}"), None));
        }
        let lay = layout(&g);
        for col in &lay.order {
            let x = lay.boxes[col[0]].x;
            for pair in col.windows(2) {
                let (a, b) = (lay.boxes[pair[0]], lay.boxes[pair[1]]);
                assert_eq!(a.x, x);
                assert_eq!(b.x, x);
                assert!(a.y + a.h < b.y, "{a:?} overlaps {b:?}");
            }
        }
        // Layers go left to right; no two boxes overlap anywhere.
        let connected: Vec<usize> = lay.order.concat();
        for &i in &connected {
            for &j in &connected {
                if lay.layer[i] < lay.layer[j] {
                    assert!(lay.boxes[i].x + lay.boxes[i].w < lay.boxes[j].x);
                }
            }
        }
        for i in 0..g.nodes.len() {
            for j in i + 1..g.nodes.len() {
                let (a, b) = (lay.boxes[i], lay.boxes[j]);
                let apart =
                    a.x + a.w <= b.x || b.x + b.w <= a.x || a.y + a.h <= b.y || b.y + b.h <= a.y;
                assert!(apart, "{a:?} overlaps {b:?}");
            }
        }
    }

    #[test]
    fn output_is_deterministic_and_escaped() {
        let mut g = sample();
        g.nodes[2].label = "<script>alert(1)</script> & \"x\"".into();
        g.edges[1].id = "<b>".into();
        let a = render(&g);
        assert_eq!(a, render(&g));
        assert!(!a.contains("<script"));
        assert!(!a.contains("<b>"));
        assert!(a.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp;"));
        assert!(a.contains("role=\"img\""));
        assert!(a.contains("<title>"));
        // Gap edges are labelled with their id, count and severity in words.
        assert!(a.contains("e3</text>"));
        assert!(a.contains("1 rule · critical"));
        assert!(a.contains("stroke=\"#b00020\""));
    }

    #[test]
    fn labels_wrap_and_are_cut() {
        assert_eq!(wrap("short", 21), vec!["short"]);
        assert_eq!(
            wrap("Development data lake (eu-central region)", 21),
            vec!["Development data lake", "(eu-central region)"]
        );
        let long = wrap(&"word ".repeat(40), 21);
        assert_eq!(long.len(), MAX_LINES);
        assert!(long[2].ends_with('…'));
        assert!(long.iter().all(|l| l.chars().count() <= 21));
        let unbroken = wrap(&"x".repeat(50), 21);
        assert_eq!(unbroken[0].chars().count(), 21);
        assert!(unbroken.iter().all(|l| l.chars().count() <= 21));
    }

    #[test]
    fn big_graphs_are_omitted_and_large_ones_stay_fast() {
        let mut g = Graph {
            nodes: (0..151).map(|i| node(&format!("n{i}"), "system")).collect(),
            edges: vec![],
        };
        assert!(render(&g).contains("diagram omitted: 151 nodes"));
        g.nodes.truncate(150);
        // A dense graph at the limit: 150 nodes, 3000 edges, with cycles.
        for i in 0..3000usize {
            let (a, b) = ((i * 7) % 150, (i * 13 + 1) % 150);
            g.edges.push(edge(
                &format!("e{i}"),
                &format!("n{a}"),
                &format!("n{b}"),
                None,
            ));
        }
        let start = std::time::Instant::now();
        let out = render(&g);
        assert!(out.starts_with("<svg"));
        assert!(start.elapsed().as_secs() < 5, "took {:?}", start.elapsed());
    }

    #[test]
    fn graphs_without_flows_still_draw() {
        let g = Graph {
            nodes: vec![node("a", "controller"), node("b", "data_subject")],
            edges: vec![],
        };
        let lay = layout(&g);
        assert!(lay.order.is_empty());
        assert_eq!(lay.unconnected, vec![0, 1]);
        assert!(render(&g).contains("Not in any flow:"));
        let empty = Graph {
            nodes: vec![],
            edges: vec![],
        };
        assert!(render(&empty).contains("no data flows"));
    }

    #[test]
    fn edges_to_unknown_nodes_are_skipped() {
        let mut g = sample();
        g.edges
            .push(edge("ghost", "app", "nowhere", Some(Severity::Low)));
        let lay = layout(&g);
        assert_eq!(lay.ends.last(), Some(&None));
        assert!(!render(&g).contains("ghost"));
    }

    /// WCAG 2 contrast ratio against white.
    fn contrast_on_white(hex: &str) -> f64 {
        let c = |i: usize| {
            let v = f64::from(u8::from_str_radix(&hex[i..i + 2], 16).expect("hex")) / 255.0;
            if v <= 0.03928 {
                v / 12.92
            } else {
                ((v + 0.055) / 1.055).powf(2.4)
            }
        };
        let l = 0.2126 * c(1) + 0.7152 * c(3) + 0.0722 * c(5);
        1.05 / (l + 0.05)
    }

    #[test]
    fn severity_colours_have_enough_contrast_on_white() {
        for sev in Severity::ALL {
            let ratio = contrast_on_white(colour(sev));
            assert!(ratio >= 4.5, "{sev:?}: {ratio}");
        }
        assert!(contrast_on_white(NO_GAP) >= 4.5);
    }
}
