import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { layersOf, layoutPlanGraph, nodeWidth, type PlanGraphItem } from "../../../src/factory/plan-graph.js";

const item = (id: string, dependsOn: string[] = []): PlanGraphItem => ({ id, title: `Task ${id}`, state: "open", dependsOn, href: `/tasks/${id}` });

describe("the plan graph layout", () => {
  it("puts each task one layer below its deepest dependency", () => {
    const layers = layersOf([item("d", ["b", "c"]), item("b", ["a"]), item("c", ["a"]), item("a"), item("e", ["a", "d"]), item("lone")]);
    assert.deepEqual(Object.fromEntries(layers), { a: 0, lone: 0, b: 1, c: 1, d: 2, e: 3 });
  });

  it("puts a sub-task below its parent, joined by a part-of edge, and a dependency's edge stays an after edge", () => {
    const graph = layoutPlanGraph([item("epic"), { ...item("sub", ["first"]), parent: "epic" }, item("first")]);
    const layer = (id: string) => graph.nodes.find((n) => n.id === id)!.layer;
    assert.deepEqual([layer("epic"), layer("first"), layer("sub")], [0, 0, 1]);
    assert.deepEqual(graph.edges.map((e) => [e.from, e.to, e.kind]).sort(), [["epic", "sub", "part-of"], ["first", "sub", "after"]]);
  });

  it("ignores dependencies on ids that are not in the graph", () => {
    assert.deepEqual(Object.fromEntries(layersOf([item("a", ["elsewhere"])])), { a: 0 });
  });

  it("survives a cycle (a plan never has one) by putting its tasks below the rest", () => {
    assert.deepEqual(Object.fromEntries(layersOf([item("a"), item("x", ["y"]), item("y", ["x"])])), { a: 0, x: 1, y: 1 });
  });

  it("draws nothing for nothing, and one box for one task", () => {
    assert.deepEqual(layoutPlanGraph([]), { width: nodeWidth + 12, height: 0, layers: 0, nodes: [], edges: [] });
    const one = layoutPlanGraph([item("a")]);
    assert.equal(one.nodes.length, 1);
    assert.equal(one.nodes[0]!.href, "/tasks/a");
    assert.ok(one.nodes[0]!.x >= 0 && one.nodes[0]!.x + one.nodes[0]!.width <= one.width);
  });

  it("draws every edge from the dependency's bottom down to the dependent's top, and keeps boxes apart", () => {
    const graph = layoutPlanGraph([item("a"), item("b", ["a"]), item("c", ["a"]), item("d", ["b", "c", "a"])]);
    assert.equal(graph.layers, 3);
    assert.equal(graph.edges.length, 5);
    const node = (id: string) => graph.nodes.find((n) => n.id === id)!;
    for (const edge of graph.edges) {
      const start = /^M([\d.]+),([\d.]+)/.exec(edge.path)!;
      const end = /([\d.]+),([\d.]+)$/.exec(edge.path)!;
      assert.equal(Number(start[2]), node(edge.from).y + node(edge.from).height, `${edge.from}→${edge.to} leaves the bottom`);
      assert.equal(Number(end[2]), node(edge.to).y, `${edge.from}→${edge.to} enters the top`);
    }
    for (const a of graph.nodes) {
      for (const b of graph.nodes) {
        if (a === b) continue;
        const apart = a.x + a.width <= b.x || b.x + b.width <= a.x || a.y + a.height <= b.y || b.y + b.height <= a.y;
        assert.ok(apart, `${a.id} and ${b.id} overlap`);
      }
    }
    assert.ok(graph.nodes.every((n) => n.x >= 0 && n.x + n.width <= graph.width && n.y + n.height <= graph.height));
  });

  it("orders a layer after the layer above, so that edges do not cross needlessly", () => {
    // Given in the worst order: b2's dependents first.
    const graph = layoutPlanGraph([item("a1"), item("a2"), item("b2", ["a2"]), item("b1", ["a1"])]);
    const x = (id: string) => graph.nodes.find((n) => n.id === id)!.x;
    assert.equal(x("a1") < x("a2"), x("b1") < x("b2"));
  });

  it("lays out a 100-task plan 10 layers deep, its crossing reduction bounded (no blow-up with size)", () => {
    const items = Array.from({ length: 100 }, (_, i) => item(`t${i}`, i >= 10 ? [`t${i - 10}`, `t${(i * 7) % (i - (i % 10))}`] : []));
    const started = performance.now();
    const graph = layoutPlanGraph(items);
    const took = performance.now() - started;
    assert.equal(graph.layers, 10);
    assert.equal(graph.nodes.length, 100);
    // A guard against combinatorial work, not a speed target (a few ms on a quiet machine; 87 ms seen in a loaded CI run).
    assert.ok(took < 2000, `took ${took.toFixed(1)} ms`);
  });

  it("cuts long titles to fit the box and keeps them whole in the title", () => {
    const title = `Title${"T".repeat(195)}`;
    const graph = layoutPlanGraph([{ ...item("a"), title }]);
    assert.ok([...graph.nodes[0]!.label].length <= 22);
    assert.ok(graph.nodes[0]!.title.startsWith(title));
  });
});
