/** WordPiece decoder: "##" pieces join the previous token, others get a space; cleanup. */

/** HF's cleanup (applied token by token, as HF does). */
export function cleanup(s: string): string {
  if (s.indexOf(' ') < 0) return s;
  return s
    .replaceAll(' .', '.')
    .replaceAll(' ?', '?')
    .replaceAll(' !', '!')
    .replaceAll(' ,', ',')
    .replaceAll(" ' ", "'")
    .replaceAll(" n't", "n't")
    .replaceAll(" 'm", "'m")
    .replaceAll(' do not', " don't")
    .replaceAll(" 's", "'s")
    .replaceAll(" 've", "'ve")
    .replaceAll(" 're", "'re");
}

/** HF WordPiece decode_chain. */
export function wordPieceDecode(tokens: string[], prefix: string, clean: boolean): string[] {
  return tokens.map((t, i) => {
    if (i !== 0) t = t.startsWith(prefix) ? t.slice(prefix.length) : ' ' + t;
    return clean ? cleanup(t) : t;
  });
}
