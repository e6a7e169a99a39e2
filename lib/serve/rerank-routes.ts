/**
 * The cross-encoder's routes, TEI's shapes (router/src/http/types.rs, server.rs):
 *
 *   POST /rerank  { query, texts, raw_scores?, return_text?, truncate?, truncation_direction? }
 *                 → [{ index, text?, score }] best first
 *   POST /predict { inputs: [a, b] | [[a, b], …], raw_scores?, truncate?, truncation_direction? }
 *                 → [{ score, label }] per input, every label, best first
 *
 * Scores are the model's: `/rerank` gives exactly what `ce.rank(query, texts)` gives (the
 * model's activation — its config's, else sigmoid for one label — or the logits with
 * raw_scores), in the same order (ties in input order); `/predict` applies a softmax over the
 * labels of a model with several, as TEI does. A model with several labels is TEI's
 * "classifier": /rerank answers 424 for it, /predict serves it. Served without an embedding
 * model, POST / and /invocations are /rerank (one label) or /predict (several), as in TEI.
 * Every pair goes through `server.score` (limits, admission, the cross-encoder's batcher,
 * dropping a departed client's pairs).
 */
import { HttpError, badRequest, wrongModelType } from './errors';
import type { EmbeddingServer, RouteSpec, ServeReranker } from './server';
import { parsePredictRequest, parseRerankRequest, type PredictInput } from './validate';
import { JsonWriter } from './vectors';

/** TEI answers a NaN score with a backend error rather than a sort of NaNs. */
function notNaN(scores: ArrayLike<number>): void {
  for (let i = 0; i < scores.length; i++) if (Number.isNaN(scores[i])) throw new HttpError(424, 'Backend', 'score is NaN');
}

/** The routes of `reranker`, as [path, route] pairs for setRoute. */
export function rerankerRoutes(server: EmbeddingServer, reranker: ServeReranker): Array<[string, RouteSpec]> {
  const o = server.options;
  const limits = { maxInputs: o.maxClientBatchSize };
  const oneLabel = reranker.numLabels === 1;

  const rerank: RouteSpec = {
    method: 'POST',
    encodes: true,
    handle: async (ctx) => {
      const body = await ctx.json();
      ctx.method = 'batch';
      const r = parseRerankRequest(body, limits);
      if (!oneLabel) {
        throw wrongModelType(`Model is not a reranker model: it has ${reranker.numLabels} labels (TEI serves it as a classifier); use /predict`);
      }
      const scores = (await server.score(ctx, {
        pairs: r.texts.map((t) => [r.query, t] as const),
        truncate: r.truncate,
        direction: r.truncationDirection,
        field: (i) => `texts[${i}]`,
        partner: 'the query',
        activation: r.rawScores ? 'identity' : 'default',
        applySoftmax: false,
      })) as Float32Array;
      notNaN(scores);
      // CrossEncoder.rank's order: best first, ties in input order.
      const order = Array.from(scores.keys()).sort((a, b) => scores[b] - scores[a] || a - b);
      const w = new JsonWriter(64 + order.length * 32);
      w.raw('[');
      order.forEach((i, k) => {
        w.raw(`${k ? ',' : ''}{"index":${i},`);
        if (r.returnText) w.raw(`"text":${JSON.stringify(r.texts[i])},`);
        w.raw('"score":').float32(scores[i]).raw('}');
      });
      return { status: 200, body: w.raw(']').finish() };
    },
  };

  const predict: RouteSpec = {
    method: 'POST',
    encodes: true,
    handle: async (ctx) => {
      const body = await ctx.json();
      const r = parsePredictRequest(body, limits);
      ctx.method = r.single ? 'single' : 'batch';
      const field = (i: number) => (r.single ? 'inputs' : `inputs[${i}]`);
      r.inputs.forEach((input: PredictInput, i) => {
        if (input.length !== 2) {
          throw badRequest(`\`${field(i)}\` is one text: the served cross-encoder scores pairs of texts, [text_a, text_b]`);
        }
      });
      const out = await server.score(ctx, {
        pairs: r.inputs as ReadonlyArray<readonly [string, string]>,
        truncate: r.truncate,
        direction: r.truncationDirection,
        field,
        partner: 'its first text',
        activation: r.rawScores ? 'identity' : 'default',
        applySoftmax: !r.rawScores,
      });
      const rows = oneLabel ? Array.from(out as Float32Array, (s) => Float32Array.of(s)) : (out as Float32Array[]);
      const w = new JsonWriter(64 + rows.length * reranker.numLabels * 48);
      if (!r.single) w.raw('[');
      rows.forEach((row, i) => {
        notNaN(row);
        // TEI's order: sorted by score ascending (stable), then reversed.
        const order = Array.from(row.keys())
          .sort((a, b) => row[a] - row[b])
          .reverse();
        w.raw(i ? ',[' : '[');
        order.forEach((j, k) => {
          w.raw(`${k ? ',' : ''}{"score":`).float32(row[j]).raw(`,"label":${JSON.stringify(reranker.labels[j] ?? `LABEL_${j}`)}}`);
        });
        w.raw(']');
      });
      if (!r.single) w.raw(']');
      return { status: 200, body: w.finish() };
    },
  };

  const routes: Array<[string, RouteSpec]> = [
    ['/rerank', rerank],
    ['/predict', predict],
  ];
  // TEI's POST / and /invocations (SageMaker) for a reranker or classifier model.
  if (!server.encoder) routes.push(['/', oneLabel ? rerank : predict], ['/invocations', oneLabel ? rerank : predict]);
  return routes;
}
