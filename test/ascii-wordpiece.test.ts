// The ASCII fast path of BERT tokenizers against the Rust HF tokenizer (npm `tokenizers`, the
// library transformers' fast tokenizers wrap), on random ASCII text built to reach every branch:
// punctuation, \t \n \r, other control characters, upper case, digits, words split into
// "##" pieces, words with no match, words over max_input_chars_per_word.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import t from 'tap';
import { AsciiWordPiece } from '../lib/engine/tokenization/ascii-wordpiece.js';
import { TextTokenizer } from '../lib/engine/tokenization/text-tokenizer.js';
import { sharedDir } from './helpers/fixtures.js';

interface RustEncoding { getIds(): number[] }
interface RustTokenizer {
  encode(text: string, pair: string | null, options: { addSpecialTokens: boolean }): Promise<RustEncoding>;
  disablePadding(): void;
  disableTruncation(): void;
}
const { Tokenizer } = createRequire(import.meta.url)('tokenizers') as { Tokenizer: { fromString(json: string): RustTokenizer } };

const minilmDir = path.join(sharedDir, 'models', 'all-MiniLM-L6-v2');
const minilmJson = JSON.parse(readFileSync(path.join(minilmDir, 'tokenizer.json'), 'utf8')) as Record<string, unknown>;

function rustTokenizer(json: object): RustTokenizer {
  const tokenizer = Tokenizer.fromString(JSON.stringify(json));
  tokenizer.disablePadding();
  tokenizer.disableTruncation();
  return tokenizer;
}

/** Deterministic random ASCII texts mixing vocabulary words with everything BERT's pipeline treats specially. */
function randomTexts(count: number, seed: number, vocabWords: string[]): string[] {
  let state = seed >>> 0;
  const next = () => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const pick = <T>(items: ArrayLike<T>) => items[Math.floor(next() * items.length)];
  const punctuation = '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~';
  const letters = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  const pieces: Array<() => string> = [
    () => pick(vocabWords),
    () => pick(vocabWords).toUpperCase(),
    () => pick(vocabWords) + pick(vocabWords) + pick(vocabWords),  // split into ## pieces
    () => Array.from({ length: 1 + Math.floor(next() * 12) }, () => pick(letters)).join(''),
    () => pick(punctuation),
    () => pick(punctuation) + pick(vocabWords) + pick(punctuation),
    () => pick([' ', '  ', '\t', '\n', '\r\n', '\r']),
    () => String.fromCharCode(pick([0, 1, 7, 8, 11, 12, 14, 27, 31, 127])),
    () => pick(vocabWords) + String.fromCharCode(pick([1, 11, 31, 127])) + pick(vocabWords),  // a control inside a word
    () => 'x'.repeat(95 + Math.floor(next() * 10)),  // around max_input_chars_per_word
    () => '##' + pick(vocabWords),
    () => 'qzxj' + pick(vocabWords),  // no match from its first letters
  ];
  return Array.from({ length: count }, () => {
    const parts = Array.from({ length: 1 + Math.floor(next() * 24) }, () => pick(pieces)());
    return parts.join(next() < 0.8 ? ' ' : '');
  });
}

const vocabWords = Object.keys((minilmJson.model as { vocab: Record<string, number> }).vocab).filter((w) => /^[a-z]{2,}$/.test(w));

t.test('MiniLM (uncased BERT): identical ids to the Rust tokenizer on 3000 random ASCII texts', async (t) => {
  const fast = AsciiWordPiece.from(minilmJson)!;
  t.ok(fast, 'the fast path accepts a BERT tokenizer.json');
  const rust = rustTokenizer(minilmJson);
  const texts = ['', ' ', 'Hello, world!', 'The quick brown fox\tjumps\r\nover the lazy dog.', "don't stop-believing...", ...randomTexts(3000, 7, vocabWords)];
  let mismatches = 0;
  for (const text of texts) {
    const want = (await rust.encode(text, null, { addSpecialTokens: false })).getIds();
    const got = fast.contentIds(text);
    if (got === undefined || got.length !== want.length || got.some((id, i) => id !== want[i])) {
      if (mismatches++ < 5) t.same(got, want, `text ${JSON.stringify(text)}`);
    }
  }
  t.equal(mismatches, 0, 'no text tokenized differently');
});

t.test('cased BERT (lowercase: false): identical ids to the Rust tokenizer', async (t) => {
  const json = { ...minilmJson, normalizer: { ...(minilmJson.normalizer as object), lowercase: false } };
  const fast = AsciiWordPiece.from(json)!;
  const rust = rustTokenizer(json);
  let mismatches = 0;
  for (const text of randomTexts(1000, 11, vocabWords)) {
    const want = (await rust.encode(text, null, { addSpecialTokens: false })).getIds();
    const got = fast.contentIds(text)!;
    if (got.length !== want.length || got.some((id, i) => id !== want[i])) mismatches++;
  }
  t.equal(mismatches, 0, 'no text tokenized differently');
});

t.test('text the fast path leaves to the library: non-ASCII and added tokens', async (t) => {
  const fast = AsciiWordPiece.from(minilmJson)!;
  for (const text of ['café au lait', 'naïve', '北京', 'emoji 🙂', 'a [MASK] b', 'x[CLS]', 'lower [mask] too'])
    t.equal(fast.contentIds(text), undefined, JSON.stringify(text));
  // ...and TextTokenizer still answers them as the Rust tokenizer does, through the library.
  const tokenizer = new TextTokenizer(minilmDir);
  const rust = rustTokenizer(minilmJson);
  for (const text of ['café au lait', 'Straße', 'a [MASK] b', 'Hello, WORLD! 123']) {
    t.same(tokenizer.contentIds(text), (await rust.encode(text, null, { addSpecialTokens: false })).getIds(), JSON.stringify(text));
  }
});

t.test("tokenizer_config.json's extra special tokens also go to the library", async (t) => {
  const fast = AsciiWordPiece.from(minilmJson, { additional_special_tokens: ['<ent>', { content: '[E1]' }] })!;
  for (const text of ['a <ent> b', 'x [e1] y']) t.equal(fast.contentIds(text), undefined, JSON.stringify(text));
  t.ok(fast.contentIds('a plain sentence'), 'other text still takes the fast path');
  t.equal(AsciiWordPiece.from(minilmJson, { do_lowercase_and_remove_accent: true }), undefined, "XLM's lowercase-and-remove-accent option: no fast path");
});

t.test('tokenizers with other pipelines get no fast path', async (t) => {
  for (const name of ['xlmr-tokenizer', 'modernbert-tokenizer', 'qwen3-tokenizer']) {
    const json = JSON.parse(readFileSync(path.join(sharedDir, 'models', name, 'tokenizer.json'), 'utf8')) as object;
    t.equal(AsciiWordPiece.from(json), undefined, name);
  }
  t.equal(AsciiWordPiece.from({ ...minilmJson, normalizer: { ...(minilmJson.normalizer as object), clean_text: false } }), undefined, 'BERT without clean_text');
  t.equal(AsciiWordPiece.from({ ...minilmJson, pre_tokenizer: { type: 'Whitespace' } }), undefined, 'another pre-tokenizer');
});
