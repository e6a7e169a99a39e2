'use strict';
// Text for training the reference tokenizers and for their golden cases: STS / SICK
// sentences (English), hand-written sentences in many languages and scripts, and seeded
// adversarial strings (every script, emoji sequences, combining marks, control characters,
// NUL, lone surrogates, whitespace of every kind, literal special tokens, long strings).
const fs = require('node:fs');
const path = require('node:path');

const DATA = process.env.SBERT_DATA_DIR || '/work/shared/data';

/** Unique sentences of STS Benchmark (train, dev, test) and SICK, in file order. */
function englishSentences() {
  const seen = new Set();
  const out = [];
  const add = (s) => {
    if (s && !seen.has(s)) {
      seen.add(s);
      out.push(s);
    }
  };
  for (const split of ['train', 'dev', 'test']) {
    for (const line of fs.readFileSync(path.join(DATA, 'stsbenchmark', `sts-${split}.csv`), 'utf8').split('\n')) {
      const cols = line.split('\t');
      if (cols.length >= 7) {
        add(cols[5]);
        add(cols[6]);
      }
    }
  }
  for (const f of ['SICK_train.txt', 'SICK_trial.txt', 'SICK_test_annotated.txt']) {
    const lines = fs.readFileSync(path.join(DATA, 'sick', f), 'utf8').split('\n').slice(1);
    for (const line of lines) {
      const cols = line.split('\t');
      if (cols.length >= 3) {
        add(cols[1]);
        add(cols[2]);
      }
    }
  }
  return out;
}

/** Hand-written sentences, a few per language / script. */
const MULTILINGUAL = [
  // Romance, Germanic, Slavic, Baltic, Finno-Ugric, Greek, Celtic
  'Le chat dort sur le canapé près de la fenêtre.', "Où est la gare ? Je voudrais acheter un billet pour Genève.",
  "L'été dernier, nous sommes allés à la plage chaque après-midi.", 'Ça coûte vingt-cinq euros, n’est-ce pas ?',
  'Der schnelle braune Fuchs springt über den faulen Hund.', 'Größere Straßen führen zur Universität München.',
  'Ich möchte ein Stück Käsekuchen und eine Tasse Kaffee, bitte.', 'Überraschenderweise regnete es gestern nicht.',
  'El niño juega al fútbol en el parque todos los días.', '¿Dónde está la biblioteca? ¡Necesito estudiar mañana!',
  'La música de Andalucía es muy apasionada.', 'Il gatto è sul tavolo e la città è bellissima.',
  'Perché non vieni con noi al mare questo fine settimana?', 'O menino está a comer uma maçã na cozinha.',
  'Não sei se vou conseguir chegar a tempo à reunião.', 'Ele comprou pão, queijo e vinho no mercado.',
  'De kat zit op de mat en kijkt naar buiten.', 'Vi ses i morgon på stationen klockan åtta.', 'Hvor er nærmeste apotek?',
  'Kissa istuu ikkunalaudalla ja katselee lintuja.', 'Jó reggelt! Hogy vagy ma?', 'Szeretnék egy pohár vizet kérni.',
  'Kot siedzi na parapecie i patrzy na ptaki.', 'Przepraszam, gdzie jest dworzec kolejowy?', 'Žluťoučký kůň úpěl ďábelské ódy.',
  'Dobrý den, jak se máte?', 'Čo robíš dnes večer?', 'Šeširdžija je prodao šešir.', 'Afară ninge și e frig în București.',
  'Labas rytas, kaip sekasi?', 'Labdien! Kā jums klājas?', 'Tere hommikust, kuidas läheb?',
  'Быстрая коричневая лиса прыгает через ленивую собаку.', 'Где находится ближайшая станция метро?',
  'Съешь же ещё этих мягких французских булок, да выпей чаю.', 'Я люблю читать книги вечером.',
  'Доброго ранку! Як справи?', 'Це дуже гарне місто.', 'Здравейте, как сте?', 'Добар дан, како сте?',
  'Η γρήγορη καφέ αλεπού πηδάει πάνω από τον τεμπέλη σκύλο.', 'Καλημέρα! Τι κάνετε σήμερα;', 'Ξεσκεπάζω την ψυχοφθόρα βδελυγμία.',
  'Dia dhuit, conas atá tú?', 'Bore da, sut wyt ti?', 'Halló, hvernig hefur þú það?', 'Þetta er ótrúlega fallegt.',
  'Merhaba, nasılsınız? Bugün hava çok güzel.', 'Pijamalı hasta yağız şoföre çabucak güvendi.',
  'Salam, necəsən?', 'Сәлеметсіз бе?', 'Салом, чӣ хел шумо?',
  // Semitic, Iranian, South Asian
  'مرحبا، كيف حالك اليوم؟', 'القطة تجلس على النافذة وتنظر إلى الطيور.', 'ذَهَبَ الوَلَدُ إِلَى المَدْرَسَةِ.',
  'שלום, מה שלומך?', 'החתול יושב על אדן החלון.', 'בְּרֵאשִׁית בָּרָא אֱלֹהִים אֵת הַשָּׁמַיִם וְאֵת הָאָרֶץ.',
  'سلام، حال شما چطور است؟', 'من کتاب می‌خوانم.', 'یہ ایک خوبصورت دن ہے۔',
  'नमस्ते, आप कैसे हैं?', 'मैं हिंदी सीख रहा हूँ और यह बहुत रोचक है।', 'क्षत्रिय ज्ञान श्रृंगार', 'आज मौसम बहुत अच्छा है।',
  'আমি বাংলায় গান গাই।', 'ਸਤ ਸ੍ਰੀ ਅਕਾਲ, ਤੁਸੀਂ ਕਿਵੇਂ ਹੋ?', 'તમે કેમ છો?', 'ନମସ୍କାର', 'வணக்கம், நீங்கள் எப்படி இருக்கிறீர்கள்?',
  'నమస్కారం, మీరు ఎలా ఉన్నారు?', 'ನಮಸ್ಕಾರ, ಹೇಗಿದ್ದೀರಿ?', 'നമസ്കാരം, സുഖമാണോ?', 'ආයුබෝවන්!', 'नमस्कार, तपाईंलाई कस्तो छ?',
  // South-East and East Asian
  'สวัสดีครับ วันนี้อากาศดีมาก', 'ฉันชอบกินข้าวผัด', 'ສະບາຍດີ', 'ជំរាបសួរ', 'မင်္ဂလာပါ',
  'Tôi yêu tiếng Việt và phở Hà Nội.', 'Xin chào, bạn có khỏe không?', 'Selamat pagi, apa kabar?', 'Magandang umaga po!',
  '我爱自然语言处理。', '今天天气很好，我们去公园散步吧！', '這是一個繁體中文的句子。', '北京是中国的首都，有很多名胜古迹。',
  '日本語の文章を書いています。', '東京タワーは、とても高いです。', 'カタカナとひらがなと漢字が混ざっています。', 'ｶﾀｶﾅ ﾊﾝｶｸ',
  '안녕하세요, 만나서 반갑습니다.', '한국어는 아름다운 언어입니다.', '서울에서 부산까지 기차로 갑니다.',
  // Caucasus, Africa, others
  'გამარჯობა, როგორ ხარ?', 'Բարեւ, ինչպես ես?', 'ሰላም፣ እንዴት ነህ?', 'Habari ya asubuhi? Nzuri sana.',
  'Ẹ kú àárọ̀!', 'Sannu, yaya kake?', 'Molo, unjani?', 'ᏣᎳᎩ ᎦᏬᏂᎯᏍᏗ', 'ᐊᐃᓐᖓᐃ', 'Ⲡⲓⲛⲟⲩⲧⲉ', 'ᠮᠣᠩᠭᠣᠯ', 'ཀུན་ལ་བཀྲ་ཤིས་བདེ་ལེགས།', 'ދިވެހި',
  // mixed, numbers, punctuation, code
  'The price is $1,234.56 (≈ €1.100) — not 1234,56!', 'E = mc² and ∑ᵢ xᵢ² ≥ 0; √2 ≈ 1.41421356.', 'Call +1 (555) 010-9999 or email a.b@example.com.',
  'https://example.org/path?q=naïve&lang=fr#section-2', 'def f(x): return x ** 2  # square', '¿¡«»‹›„“”‘’‚—–…·•※‰′″',
  'ﬁnancial ﬂow ﬀ ﬃ ﬄ Ⅻ ① ② ㎏ ㎞ ℃ ™ ℡ ½ ¾ ⁴ ₂', 'ＡＢＣ ａｂｃ １２３ ！？ （全角）',
  '𝔾𝕠𝕠𝕕 𝕞𝕠𝕣𝕟𝕚𝕟𝕘 𝐁𝐨𝐥𝐝 𝑰𝒕𝒂𝒍𝒊𝒄', 'Ünïcödé çàñ bé tŕîçky: Å Å Å (three ways)', 'Ａ\u0301 e\u0301 e\u0301\u0301 ﬁ\u0301 \u00a0\u0301',
  'I 😀 love 👍🏽 emoji 👨‍👩‍👧‍👦 and flags 🇫🇷🇩🇪🇯🇵 and ❤️ and 1️⃣', 'Z̷̢̛a̴͖͝l̸̰̈g̵̣̾ő̷͈ ̶̜̌t̵̰̿e̸̤͗x̷̝̆t̵̲̚',
];

/** A seeded PRNG (mulberry32). */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Letters of many scripts (code point ranges) for random words. */
const SCRIPT_RANGES = [
  [0x61, 0x7a], [0xe0, 0xff], [0x100, 0x17f], [0x180, 0x24f], [0x370, 0x3ff], [0x400, 0x4ff], [0x531, 0x556], [0x5d0, 0x5ea],
  [0x620, 0x64a], [0x904, 0x939], [0x985, 0x9b9], [0xa05, 0xa39], [0xb85, 0xbb9], [0xc05, 0xc39], [0xd05, 0xd39], [0xe01, 0xe30],
  [0xe81, 0xeb0], [0xf40, 0xf6c], [0x1000, 0x102a], [0x10d0, 0x10fa], [0x1200, 0x1248], [0x13a0, 0x13f4], [0x1401, 0x1676],
  [0x1780, 0x17b3], [0x1820, 0x1877], [0x3041, 0x3096], [0x30a1, 0x30fa], [0x3105, 0x312f], [0x4e00, 0x9fff], [0xac00, 0xd7a3],
  [0xa000, 0xa48c], [0x10400, 0x1044f], [0x1d400, 0x1d7ff], [0x20000, 0x2a6df], [0x31350, 0x323af],
];
const COMBINING = [0x300, 0x301, 0x302, 0x303, 0x308, 0x30a, 0x327, 0x328, 0x331, 0x34f, 0x35c, 0x361, 0x483, 0x591, 0x5b4, 0x64b, 0x651, 0x670, 0x93c, 0x94d, 0x9bc, 0xe31, 0xe48, 0x1ab0, 0x1dc0, 0x20d7, 0x20e3, 0xfe0f, 0xfe20, 0x1f3fb];
const SPACES = [' ', ' ', ' ', '  ', '   ', '\t', '\n', '\r\n', '\r', '\u00a0', '\u2002', '\u2003', '\u3000', '\u2028', '\u2029', '\u200b', '\u202f', '\ufeff', '\u000b', '\u000c', '\u0085', '\u1680'];
const CONTROLS = ['\u0000', '\u0001', '\u0007', '\u001b', '\u007f', '\u0080', '\u009f', '\u00ad', '\u200c', '\u200d', '\u200e', '\u202e', '\u2060', '\ufffd', '\ufff9', '\ue000', '\u{e0001}', '\u{f0000}'];
const SPECIALS = ['<s>', '</s>', '<pad>', '<unk>', '<mask>', '[CLS]', '[SEP]', '[UNK]', '[MASK]', '[PAD]', '<s', 's>', '</', '<mask', 'mask>', '<0x41>', '▁', '▁▁', '##', 'Ġ'];
const EMOJI = ['😀', '👍🏽', '👨‍👩‍👧‍👦', '🇫🇷', '🇩🇪🇯', '❤️', '1️⃣', '🏳️‍🌈', '👩🏾‍💻', '🫠', '🦀', '©', '®', '‼️', '☝🏿', '🧑‍🤝‍🧑', '🇺🇳🇺', '#️⃣', '🏴󠁧󠁢󠁳󠁣󠁴󠁿'];
const PUNCT = ['.', ',', '!', '?', "'", '"', '-', '—', '…', '(', ')', '[', ']', '{', '}', ':', ';', '/', '\\', '@', '#', '$', '%', '^', '&', '*', '_', '+', '=', '<', '>', '|', '~', '`', "'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "''", '``', '、', '。', '「', '」', '؟', '।', '·'];
const COMPAT = ['ﬁ', 'ﬂ', 'Ⅻ', '①', '㎏', '℃', '™', '½', '²', 'Ａ', 'ｶ', 'ﾞ', '𝔾', '𝟙', 'ǅ', 'İ', 'ß', 'ẞ', 'Σ', 'ς', 'ŉ', 'ǰ', 'ΐ', 'ﷺ', '㍿', '\u0344', '\u0f73', '\u2126', '\u212b', 'Å', 'Å', 'å'];

function pick(r, list) {
  return list[Math.floor(r() * list.length)];
}

function randomWord(r) {
  const [a, b] = pick(r, SCRIPT_RANGES);
  const n = 1 + Math.floor(r() * 8);
  let w = '';
  for (let i = 0; i < n; i++) {
    w += String.fromCodePoint(a + Math.floor(r() * (b - a + 1)));
    if (r() < 0.08) w += String.fromCodePoint(pick(r, COMBINING));
  }
  return w;
}

/** One adversarial string (length up to ~maxTokens pieces). */
function adversarial(r, maxPieces = 24, allowLoneSurrogates = true) {
  const n = Math.floor(r() * maxPieces);
  let s = '';
  for (let i = 0; i < n; i++) {
    const k = r();
    if (k < 0.3) s += randomWord(r);
    else if (k < 0.42) s += pick(r, SPACES);
    else if (k < 0.5) s += pick(r, PUNCT);
    else if (k < 0.56) s += pick(r, SPECIALS);
    else if (k < 0.62) s += pick(r, EMOJI);
    else if (k < 0.68) s += pick(r, CONTROLS);
    else if (k < 0.74) s += pick(r, COMPAT);
    else if (k < 0.8) s += String.fromCodePoint(pick(r, COMBINING));
    else if (k < 0.86) s += String(Math.floor(r() * 1e6));
    else if (k < 0.88 && allowLoneSurrogates) s += pick(r, ['\ud800', '\udfff', '\udbff\udbff', '\udc00a']);
    else if (k < 0.94) s += pick(r, MULTILINGUAL).slice(0, 1 + Math.floor(r() * 20));
    else s += String.fromCodePoint(Math.floor(r() * 0x30000)).replace(/[\ud800-\udfff]/g, '');
  }
  return s;
}

/** Lines for training (valid UTF-8: no lone surrogates). */
function trainingLines(seed = 7) {
  const r = rng(seed);
  const lines = englishSentences();
  for (let rep = 0; rep < 20; rep++) lines.push(...MULTILINGUAL);
  for (let i = 0; i < 3000; i++) lines.push(Array.from({ length: 4 + Math.floor(r() * 10) }, () => randomWord(r)).join(' '));
  for (let i = 0; i < 2000; i++) lines.push(adversarial(r, 24, false).replace(/[\n\r]/g, ' '));
  return lines.filter((l) => l.trim().length > 0);
}

/** The golden test texts: English, multilingual, adversarial, edge cases, long strings. */
function testTexts(seed = 11, { english = 1500, adversarialCount = 1500, long = true } = {}) {
  const r = rng(seed);
  const en = englishSentences();
  const texts = [];
  for (let i = 0; i < english; i++) texts.push(en[Math.floor(r() * en.length)]);
  texts.push(...MULTILINGUAL);
  texts.push(
    '', ' ', '  ', '\t', '\n', '\u0000', 'a\u0000b', '\u00a0', '▁', '▁▁a', ' ▁ a', 'a  b   c    d', '  leading', 'trailing  ',
    '<s>', '</s>', '<mask>', '<unk>', '<pad>', 'a<mask>b', 'hello <mask> world', '<s>hello</s>', '</s></s>', '<s> <s>', 'x<unk>y',
    "don't it's we're I've I'm you'll he'd 'S 'T", "''``", "''s", " 's", "!'s", 'HELLO World', 'İstanbul ΣΊΣΥΦΟΣ ß ẞ',
    '\ud800', 'a\udc00b', '\udbff\udfff', '😀\ud83d', 'e\u0301', 'Ａ\u0301', 'ﬁ\u0301', '\u00a0\u0301', '\r\n', 'a\r\nb', '\u200d', '\u0600a',
    '１２３４５', '①②③', 'x\u0303\u0303\u0303\u0303\u0303\u0303\u0303', '👨‍👩‍👧‍👦👨‍👩‍👧‍👦', '🇫🇷🇫', '\ufeffBOM', 'tab\tsep\tvalues',
    'a'.repeat(300), 'ab'.repeat(150), '😀'.repeat(100), '한'.repeat(200), 'x '.repeat(200),
  );
  for (let i = 0; i < adversarialCount; i++) texts.push(adversarial(r, i % 10 === 0 ? 200 : 24));
  if (long) {
    // long strings: 100 kB of English prose, 30 kB of mixed scripts, 60 kB without any space
    texts.push(en.slice(0, 1200).join(' ').slice(0, 100000));
    let mixed = '';
    while (mixed.length < 30000) mixed += adversarial(r, 40) + ' ';
    texts.push(mixed.slice(0, 30000));
    texts.push('天'.repeat(30000) + 'abc'.repeat(10000));
  }
  return texts;
}

/** Pairs for pair goldens. */
function testPairs(seed = 13, n = 400) {
  const r = rng(seed);
  const en = englishSentences();
  const pairs = [];
  for (let i = 0; i < n; i++) {
    const a = r() < 0.7 ? en[Math.floor(r() * en.length)] : adversarial(r, 30);
    const b = r() < 0.7 ? en[Math.floor(r() * en.length)] : r() < 0.5 ? pick(r, MULTILINGUAL) : adversarial(r, 60);
    pairs.push([a, b]);
  }
  pairs.push(['', ''], ['a', ''], ['', 'b'], ['<mask>', '</s>'], [en[0].repeat(20), en[1]], [en[2], en[3].repeat(30)]);
  return pairs;
}

module.exports = { englishSentences, trainingLines, testTexts, testPairs, rng, adversarial, MULTILINGUAL };
