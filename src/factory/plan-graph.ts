// The dependency graph of a plan, laid out in layers by dependency depth: a task's layer is one
// below its deepest dependency, so what can start first is on top and every edge points down.
// Longest-path layering rather than dagre's network-simplex ranking, because the layer is meant
// to say "how many merges before this can start" (dagre moves a root down next to its dependent),
// and because it is linear: dagre took 65-130 ms of the event loop for a 100-task plan, on every
// live refresh of the page; this takes well under a millisecond. Within a layer, nodes are ordered
// by a few barycentre sweeps (the usual Sugiyama heuristic against crossings), with a hidden
// point in each layer an edge skips, so that long edges bend around nodes instead of through them.
import { curveBumpY, line } from "d3-shape";
import { cut, type Box } from "./charts.js";

/** How a node's task stands: a draft (not accepted yet), a draft left out, or the task's state. */
export type PlanNodeState = "draft" | "not_accepted" | "open" | "in_progress" | "needs_human" | "done" | "wontfix";

/** Each state as a node and the legend name it. */
export const nodeStateLabels: Record<PlanNodeState, string> = {
  draft: "draft",
  not_accepted: "not accepted",
  open: "open",
  in_progress: "in progress",
  needs_human: "needs you",
  done: "done",
  wontfix: "won't fix",
};

export interface PlanGraphItem {
  id: string;
  title: string;
  state: PlanNodeState;
  /** Ids of other items; ids of no item are left out. */
  dependsOn: readonly string[];
  /** The item this one is a sub-task of: drawn above it, joined by a "part of" edge. */
  parent?: string;
  href?: string;
}

export interface PlanGraphNode extends Box {
  id: string;
  /** The title, cut to fit the box. */
  label: string;
  title: string;
  state: PlanNodeState;
  layer: number;
  href: string | undefined;
}

export interface PlanGraph {
  /** The viewBox: width and height in SVG user units. */
  width: number;
  height: number;
  layers: number;
  nodes: PlanGraphNode[];
  /** SVG path data of each edge, from the dependency's (or parent's) bottom to the dependent's (sub-task's) top. */
  edges: Array<{ from: string; to: string; kind: "after" | "part-of"; path: string }>;
}

export const nodeWidth = 160;
const nodeHeight = 42;
const nodeGap = 16;
const bendWidth = 10;
const layerGap = 40;
const pad = 6;
const sweeps = 4;
// Past this many hidden bend points, long edges are drawn straight: the layout stays linear in the plan.
const maxBends = 2000;

interface Slot {
  key: string;
  node: PlanGraphItem | undefined;
  up: Slot[];
  down: Slot[];
  order: number;
  x: number;
}

/** What an item is drawn below: its dependencies and its parent. */
const above = (item: PlanGraphItem) => (item.parent ? [...item.dependsOn, item.parent] : item.dependsOn);

/** Layer of every item: 0 without dependencies or parent among the items, else one more than its deepest one. Items on a cycle (a plan never has one) go below the rest. */
export function layersOf(items: readonly PlanGraphItem[]): Map<string, number> {
  const ids = new Set(items.map((item) => item.id));
  const deps = new Map(items.map((item) => [item.id, [...new Set(above(item).filter((d) => ids.has(d) && d !== item.id))]]));
  const waiting = new Map(items.map((item) => [item.id, deps.get(item.id)!.length]));
  const dependents = new Map<string, string[]>(items.map((item) => [item.id, []]));
  for (const [id, list] of deps) for (const dep of list) dependents.get(dep)!.push(id);
  const layer = new Map<string, number>();
  const ready = items.filter((item) => waiting.get(item.id) === 0).map((item) => item.id);
  for (let i = 0; i < ready.length; i++) {
    const id = ready[i]!;
    layer.set(id, Math.max(-1, ...deps.get(id)!.map((d) => layer.get(d)!)) + 1);
    for (const next of dependents.get(id)!) {
      const left = waiting.get(next)! - 1;
      waiting.set(next, left);
      if (left === 0) ready.push(next);
    }
  }
  const below = Math.max(-1, ...layer.values()) + 1;
  for (const item of items) if (!layer.has(item.id)) layer.set(item.id, below);
  return layer;
}

/** Orders each layer by the mean position of its neighbours in the layer before (sweeping down) or after (up); ties keep their order. */
function sweep(rows: Slot[][]): void {
  const place = (row: Slot[], neighbours: (s: Slot) => Slot[]) => {
    const centre = (s: Slot) => {
      const list = neighbours(s);
      return list.length ? list.reduce((sum, n) => sum + n.order, 0) / list.length : s.order;
    };
    const sorted = row.map((s) => ({ s, c: centre(s) })).sort((a, b) => a.c - b.c || a.s.order - b.s.order);
    sorted.forEach(({ s }, i) => (s.order = i));
    row.sort((a, b) => a.order - b.order);
  };
  for (let pass = 0; pass < sweeps; pass++) {
    for (let i = 1; i < rows.length; i++) place(rows[i]!, (s) => s.up);
    for (let i = rows.length - 2; i >= 0; i--) place(rows[i]!, (s) => s.down);
  }
}

/** Lays out a plan's items as layered boxes with edges; an empty list gives an empty graph. */
export function layoutPlanGraph(items: readonly PlanGraphItem[]): PlanGraph {
  const layer = layersOf(items);
  const layers = items.length ? Math.max(...layer.values()) + 1 : 0;
  const rows: Slot[][] = Array.from({ length: layers }, () => []);
  const slots = new Map<string, Slot>();
  for (const item of items) {
    if (slots.has(item.id)) continue;
    const slot: Slot = { key: item.id, node: item, up: [], down: [], order: rows[layer.get(item.id)!]!.length, x: 0 };
    slots.set(item.id, slot);
    rows[layer.get(item.id)!]!.push(slot);
  }
  const link = (a: Slot, b: Slot) => {
    a.down.push(b);
    b.up.push(a);
  };
  // Each edge as the chain of slots it passes, top to bottom.
  const chains: Array<{ from: string; to: string; kind: "after" | "part-of"; path: Slot[] }> = [];
  const edges = [...slots.values()].flatMap((to) =>
    [...new Set(above(to.node!))]
      .filter((d) => slots.has(d) && layer.get(d)! < layer.get(to.key)!)
      .map((from) => ({ from, to: to.key, kind: to.node!.dependsOn.includes(from) ? ("after" as const) : ("part-of" as const) })),
  );
  const bends = edges.reduce((sum, e) => sum + layer.get(e.to)! - layer.get(e.from)! - 1, 0);
  for (const edge of edges) {
    const path = [slots.get(edge.from)!];
    if (bends <= maxBends) {
      for (let l = layer.get(edge.from)! + 1; l < layer.get(edge.to)!; l++) {
        const bend: Slot = { key: `${edge.from}>${edge.to}@${l}`, node: undefined, up: [], down: [], order: rows[l]!.length, x: 0 };
        rows[l]!.push(bend);
        path.push(bend);
      }
    }
    path.push(slots.get(edge.to)!);
    for (let i = 1; i < path.length; i++) link(path[i - 1]!, path[i]!);
    chains.push({ ...edge, path });
  }
  sweep(rows);

  const span = (s: Slot) => (s.node ? nodeWidth : bendWidth);
  const rowWidth = (row: Slot[]) => row.reduce((sum, s) => sum + span(s), 0) + Math.max(0, row.length - 1) * nodeGap;
  const width = Math.max(nodeWidth, ...rows.map(rowWidth)) + 2 * pad;
  for (const row of rows) {
    let x = (width - rowWidth(row)) / 2;
    for (const s of row) {
      s.x = x + span(s) / 2;
      x += span(s) + nodeGap;
    }
  }
  const top = (l: number) => pad + l * (nodeHeight + layerGap);
  const nodes = [...slots.values()].map((s): PlanGraphNode => {
    const item = s.node!;
    const l = layer.get(item.id)!;
    return { id: item.id, label: cut(item.title, 22), title: `${item.title} (${item.id})`, state: item.state, layer: l, href: item.href, x: s.x - nodeWidth / 2, y: top(l), width: nodeWidth, height: nodeHeight };
  });
  const draw = line<[number, number]>().curve(curveBumpY);
  const edgePaths = chains.map(({ from, to, kind, path }) => {
    const points: Array<[number, number]> = path.map((s, i): [number, number] => {
      const l = layer.get(from)! + i;
      // A box is left at its bottom and entered at its top; a bend point sits mid-layer.
      if (i === 0) return [s.x, top(l) + nodeHeight];
      if (i === path.length - 1) return [s.x, top(layer.get(to)!)];
      return [s.x, top(l) + nodeHeight / 2];
    });
    return { from, to, kind, path: draw(points) ?? "" };
  });
  return { width, height: layers ? top(layers - 1) + nodeHeight + pad : 0, layers, nodes, edges: edgePaths };
}
