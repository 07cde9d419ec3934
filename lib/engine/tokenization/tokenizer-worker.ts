/**
 * Worker-thread side of TokenizationPool: keeps one tokenizer per model directory and answers
 * { id, directory, texts, withTokens } with each text's content token ids packed into one
 * Int32Array, plus the token strings and code-point spans when asked (entity extraction).
 */
import { parentPort } from 'node:worker_threads';
import { TextTokenizer } from './text-tokenizer.js';

interface Request {
  id: number;
  directory: string;
  texts: string[];
  withTokens: boolean;
}

const tokenizers = new Map<string, TextTokenizer>();

parentPort?.on('message', (request: Request) => {
  try {
    let tokenizer = tokenizers.get(request.directory);
    if (!tokenizer) {
      tokenizer = new TextTokenizer(request.directory);
      tokenizers.set(request.directory, tokenizer);
    }
    const texts = request.texts.map((text) => (request.withTokens ? tokenizer!.contentTokens(text) : { ids: tokenizer!.contentIds(text) }));
    const lengths = Int32Array.from(texts, (t) => t.ids.length);
    const ids = new Int32Array(lengths.reduce((a, b) => a + b, 0));
    let at = 0;
    for (const text of texts) {
      ids.set(text.ids, at);
      at += text.ids.length;
    }
    const details = request.withTokens ? texts.map((t) => ({ tokens: (t as { tokens: string[] }).tokens, spans: (t as { spans: Array<[number, number]> }).spans })) : undefined;
    parentPort!.postMessage({ id: request.id, ids, lengths, details }, [ids.buffer, lengths.buffer]);
  } catch (error) {
    parentPort!.postMessage({ id: request.id, error: (error as Error).message });
  }
});
