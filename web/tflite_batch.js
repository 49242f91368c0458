// Fixing a TFLite model's batch size in its flatbuffer, before LiteRT.js loads it.
//
// tfgen exports a free batch dimension (shape_signature [-1, ...]); LiteRT.js 2.5 runs only the
// shapes a model declares and has no call to resize an input. So the page writes the batch it
// needs into the signature inputs' and outputs' `shape` and `shape_signature` (same-length vectors, patched in
// place in a copy) and lets the interpreter size everything downstream, as a resize would.
//
// Flatbuffer layout (schema.fbs): Model.subgraphs = field 2, Model.signature_defs = field 7;
// SubGraph.tensors = field 0; Tensor.shape = field 0, Tensor.shape_signature = field 7;
// SignatureDef.inputs = field 0, SignatureDef.outputs = field 1, SignatureDef.subgraph_index = field 4; TensorMap.tensor_index = field 1.

function reader(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u32 = (p) => view.getUint32(p, true);
  const field = (table, index) => {
    const vtable = table - view.getInt32(table, true);
    const size = view.getUint16(vtable, true);
    const at = 4 + 2 * index;
    const offset = at < size ? view.getUint16(vtable + at, true) : 0;
    return offset ? table + offset : null;
  };
  const ref = (p) => p + u32(p); // a uoffset field -> what it points at
  const vector = (table, index) => {
    const p = field(table, index);
    if (p === null) return null;
    const start = ref(p);
    return { length: u32(start), at: (i) => start + 4 + 4 * i };
  };
  const tables = (table, index) => {
    const v = vector(table, index);
    return v ? Array.from({ length: v.length }, (_, i) => ref(v.at(i))) : [];
  };
  return { view, u32, field, vector, tables, root: u32(0) };
}

// A copy of `bytes` whose signature inputs and outputs with a free batch dimension have batch `batch`.
export function withBatch(bytes, batch) {
  const copy = bytes.slice();
  const r = reader(copy);
  const subgraphs = r.tables(r.root, 2);
  for (const signature of r.tables(r.root, 7)) {
    const indexField = r.field(signature, 4);
    const subgraph = subgraphs[indexField === null ? 0 : r.u32(indexField)];
    const tensors = r.tables(subgraph, 0);
    for (const map of [...r.tables(signature, 0), ...r.tables(signature, 1)]) {
      const tensorField = r.field(map, 1);
      const tensor = tensors[tensorField === null ? 0 : r.u32(tensorField)];
      const signatureShape = r.vector(tensor, 7);
      if (!signatureShape || signatureShape.length === 0 || r.view.getInt32(signatureShape.at(0), true) !== -1) continue;
      r.view.setInt32(signatureShape.at(0), batch, true);
      const shape = r.vector(tensor, 0);
      if (shape && shape.length) r.view.setInt32(shape.at(0), batch, true);
    }
  }
  return copy;
}
