/**
 * Where each WordPiece token came from in the original text, in code points: the JS tokenizer
 * gives ids and token strings but no offsets, and entity extraction needs character spans.
 */

/** BERT's pre-tokenizer splits on whitespace, punctuation (ASCII symbols and Unicode P*) and around each CJK ideograph. */
const isSpace = (c: string) => /\s/u.test(c);
const isPunctuation = (c: string) => /[!-/:-@[-`{-~]/.test(c) || /\p{P}/u.test(c);
const isCjk = (c: string) => /[\u{4E00}-\u{9FFF}\u{3400}-\u{4DBF}\u{20000}-\u{2A6DF}\u{2A700}-\u{2B73F}\u{2B740}-\u{2B81F}\u{2B820}-\u{2CEAF}\u{F900}-\u{FAFF}\u{2F800}-\u{2FA1F}]/u.test(c);

/**
 * Character spans of WordPiece tokens in the original text, in code points (as Python and the
 * Rust tokenizer count them, so `[...text].slice(start, end)` is the token's text). The tokenizer
 * lowercases and strips accents, so the text is normalised the same way character by character,
 * keeping for every normalised character the index of the original one it came from; each token
 * (without "##") is then found in order. An unknown token covers the rest of its pre-token word.
 */
export function alignTokens(text: string, tokens: string[]): Array<[number, number]> {
  const normalized: string[] = [];
  const origin: number[] = [];
  const original = [...text];
  original.forEach((char, index) => {
    const folded = char.toLowerCase().normalize('NFD').replace(/\p{Mn}/gu, '');
    for (const c of folded) {
      normalized.push(c);
      origin.push(index);
    }
  });
  const at = (i: number) => (i < origin.length ? origin[i] : original.length);
  const spans: Array<[number, number]> = [];
  let cursor = 0;
  for (const token of tokens) {
    const piece = token.startsWith('##') ? token.slice(2) : token;
    while (cursor < normalized.length && isSpace(normalized[cursor])) cursor++;
    // Special tokens written literally in the text ("[UNK]", "[SEP]") match themselves.
    const literal = /^\[[A-Z]+\]$/.test(piece) ? [...piece.toLowerCase()] : null;
    if (literal && literal.every((c, j) => normalized[cursor + j] === c)) {
      spans.push([origin[cursor], origin[cursor + literal.length - 1] + 1]);
      cursor += literal.length;
      continue;
    }
    if (piece !== '[UNK]' && piece.length > 0) {
      const chars = [...piece];
      let found = -1;
      for (let i = cursor; i + chars.length <= normalized.length && found < 0; i++) {
        if (chars.every((c, j) => normalized[i + j] === c)) found = i;
      }
      if (found >= 0) {
        const last = found + chars.length - 1;
        spans.push([origin[found], origin[last] + 1]);
        cursor = last + 1;
        continue;
      }
    }
    let stop = cursor + 1;
    const single = cursor < normalized.length && (isPunctuation(normalized[cursor]) || isCjk(normalized[cursor]));
    if (!single) {
      while (stop < normalized.length && !isSpace(normalized[stop]) && !isPunctuation(normalized[stop]) && !isCjk(normalized[stop])) stop++;
    }
    spans.push([at(cursor), at(stop)]);
    cursor = stop;
  }
  return spans;
}
