/**
 * The real-weights parity corpus: over 1000 inputs built deterministically from the shared
 * reference sentences and lines in many languages and scripts, with emoji, near-empty inputs,
 * inputs far past the 256-token limit, and batches of mixed lengths.
 */
import { sentences } from '../helpers/fixtures.js';

const MULTILINGUAL = [
  'The weather is lovely today.',
  'Le chat dort sur le canapé depuis ce matin.',
  'Der schnelle braune Fuchs springt über den faulen Hund.',
  'La inteligencia artificial está cambiando la medicina.',
  'O Brasil é o maior país da América do Sul.',
  'Questo ristorante serve la migliore pizza della città.',
  'Het is vandaag erg koud in Amsterdam.',
  'Warszawa jest stolicą Polski.',
  'Москва — столица России.',
  'Київ стоїть на Дніпрі.',
  'Η Αθήνα είναι η πρωτεύουσα της Ελλάδας.',
  'İstanbul iki kıtada yer alır.',
  'القاهرة هي عاصمة مصر.',
  'ירושלים היא עיר עתיקה.',
  'तेहरान ईरान की राजधानी है।',
  'ঢাকা বাংলাদেশের রাজধানী।',
  'சென்னை ஒரு பெரிய நகரம்.',
  'กรุงเทพฯ เป็นเมืองหลวงของประเทศไทย',
  'Hà Nội là thủ đô của Việt Nam.',
  'Jakarta adalah ibu kota Indonesia.',
  '東京は日本の首都です。',
  '北京是中国的首都。',
  '서울은 대한민국의 수도입니다.',
  'Ulaanbaatar bol Mongol ulsyn niislel yum.',
  'Nairobi ni mji mkuu wa Kenya.',
  'Reykjavík er höfuðborg Íslands.',
  'Helsinki on Suomen pääkaupunki.',
  'Budapest Magyarország fővárosa.',
  'Tbilisi საქართველოს დედაქალაქია.',
  'Երևանը Հայաստանի մայրաքաղաքն է։',
];

const EMOJI = ['🚀 launch day!', 'I ❤️ embeddings 😀😀😀', '👩‍👩‍👧‍👦 family photo', '🇯🇵🇫🇷🇧🇷 flags', 'ok 👍', '🔥'];
const NEAR_EMPTY = ['', ' ', '.', '?', 'a', 'I', '\n', '\t\t', '...', '-', '0', '!!!'];

export function parityCorpus(): string[] {
  const base = [...sentences(), ...MULTILINGUAL, ...EMOJI, ...NEAR_EMPTY];
  const corpus: string[] = [...base];
  // Pairs of lines joined: mixed scripts and lengths in one input.
  for (let i = 0; i < base.length && corpus.length < 900; i++) {
    for (let j = i + 1; j < base.length && corpus.length < 900; j += 7) corpus.push(`${base[i]} ${base[j]}`);
  }
  // Inputs far past max_seq_length (256): truncated as sentence-transformers truncates.
  for (let i = 0; i < 60; i++) corpus.push(Array.from({ length: 4 + (i % 20) }, (_, k) => base[(i * 13 + k) % base.length]).join(' '));
  // Prefixes of growing length: every length from a few tokens to past the limit.
  const longText = sentences().join(' ');
  for (let i = 1; corpus.length < 1100; i++) corpus.push(longText.slice(0, i * 17));
  return corpus;
}
