/**
 * Worker-thread side of TokenizationPool: keeps one tokenizer per model directory and answers
 * { id, directory, texts } with the content token ids of each text, packed into one Int32Array.
 */
import { parentPort } from 'node:worker_threads';
import { TextTokenizer } from './text-tokenizer.js';

interface Request {
  id: number;
  directory: string;
  texts: string[];
}

const tokenizers = new Map<string, TextTokenizer>();

parentPort?.on('message', (request: Request) => {
  try {
    let tokenizer = tokenizers.get(request.directory);
    if (!tokenizer) {
      tokenizer = new TextTokenizer(request.directory);
      tokenizers.set(request.directory, tokenizer);
    }
    const lists = request.texts.map((text) => tokenizer!.contentIds(text));
    const lengths = Int32Array.from(lists, (l) => l.length);
    const ids = new Int32Array(lengths.reduce((a, b) => a + b, 0));
    let at = 0;
    for (const list of lists) {
      ids.set(list, at);
      at += list.length;
    }
    parentPort!.postMessage({ id: request.id, ids, lengths }, [ids.buffer, lengths.buffer]);
  } catch (error) {
    parentPort!.postMessage({ id: request.id, error: (error as Error).message });
  }
});
