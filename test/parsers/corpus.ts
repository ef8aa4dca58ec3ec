import fc from 'fast-check';

/**
 * Hostile variable values for the export formats (parser-matrix.test.ts): each must come back
 * exactly from every parser of a format, or be refused naming its key. NUL and lone surrogates
 * are not here: values are refused with them before they are stored.
 */
export interface HostileValue {
  /** Shown when a parser reads it differently; never the value itself, which may be huge. */
  label: string;
  value: string;
}

const hex = (code: number) => code.toString(16).padStart(4, '0');

const named: [string, string][] = [
  ['empty', ''],
  ['plain word', 'simple'],
  ['single quote', "it's"],
  ['double quote', 'say "hi"'],
  ['backtick command', 'run `touch pwned` now'],
  ['the review payload', "a'b'; touch pwned; echo 'c"],
  ['single-quoted word', "'quoted'"],
  ['double-quoted word', '"quoted"'],
  ['lone single quote', "'"],
  ['lone double quote', '"'],
  ['lone backtick', '`'],
  ['all quotes', `it's "a" \`b\``],
  ['all quotes multiline', `it's "a"\n\`b\``],
  ['mismatched outer quotes', `'half"`],
  ['dollar words', 'cost $5, $HOME and $$'],
  ['command substitution', '$(touch pwned)'],
  ['braced reference', '${HOME}'],
  ['braced default', '${NOPE:-fallback}'],
  ['braced colon', '${a:b}'],
  ['unclosed brace', '${HOME'],
  ['trailing dollar', 'money$'],
  ['dollar in single quotes', "'$HOME'"],
  ['backslash', 'a\\b'],
  ['two backslashes', 'a\\\\b'],
  ['windows path', 'C:\\new\\table\\r'],
  ['trailing backslash', 'C:\\dir\\'],
  ['escaped single quote', "\\'"],
  ['escaped double quote', '\\"'],
  ['escaped dollar', '\\$HOME'],
  ['literal backslash-n', 'line\\nnext'],
  ['hash first', '#not a comment'],
  ['space hash', 'value #not a comment'],
  ['hash inside', 'a#b'],
  ['only hash', '#'],
  ['space then hash', ' #'],
  ['leading spaces', '   lead'],
  ['trailing spaces', 'trail   '],
  ['padded', '  both  '],
  ['only spaces', '   '],
  ['leading tab', '\tindented'],
  ['trailing tab', 'tabbed\t'],
  ['inner tab', 'a\tb'],
  ['trailing vertical tab', 'x\u000b'],
  ['leading form feed', '\u000cx'],
  ['trailing nel', 'x\u0085'],
  ['leading line separator', '\u2028x'],
  ['newline', 'line1\nline2'],
  ['lone newline', '\n'],
  ['trailing newline', 'ends\n'],
  ['leading newline', '\nstarts'],
  ['blank lines', 'a\n\n\nb\n'],
  ['injected line', 'x\nexport EVIL=1'],
  ['injected key', 'x\nOTHER=injected'],
  ['yaml document marker', 'a---\nb'],
  ['carriage return', 'a\rb'],
  ['crlf', 'a\r\nb'],
  ['trailing cr', 'ends\r'],
  ['lone cr', '\r'],
  ['equals', '='],
  ['equals inside', 'a=b=c'],
  ['equals first', '=value'],
  ['export lookalike', 'export X=1'],
  ['nel', 'a\u0085b'],
  ['line separator', 'a\u2028b'],
  ['paragraph separator', 'a\u2029b'],
  ['bom first', '\ufeffbom'],
  ['bom inside', 'a\ufeffb'],
  ['fffe', 'a\ufffeb'],
  ['ffff', 'a\uffffb'],
  ['replacement char', 'a\ufffdb'],
  ['nbsp edges', '\u00a0nbsp\u00a0'],
  ['ideographic space', '\u3000wide\u3000'],
  ['emoji', 'smile 😀 family 👩‍👩‍👧 flag 🇫🇷'],
  ['astral math', '𝕏𝔸 𐍈'],
  ['cjk and rtl', '日本語 שלום مرحبا'],
  ['rtl override', 'abc\u202eevil\u202c'],
  ['combining', 'e\u0301 a\u0308'],
  ['yaml yes', 'yes'],
  ['yaml no', 'no'],
  ['yaml on', 'ON'],
  ['yaml off', 'off'],
  ['yaml y', 'y'],
  ['yaml true', 'true'],
  ['yaml False', 'False'],
  ['yaml null', 'null'],
  ['yaml tilde', '~'],
  ['yaml hex', '0x1F'],
  ['yaml octal', '0o17'],
  ['yaml leading zero', '0123'],
  ['yaml exponent', '1e3'],
  ['yaml float', '1.5'],
  ['yaml inf', '.inf'],
  ['yaml nan', '.NaN'],
  ['yaml underscore number', '1_000'],
  ['yaml sexagesimal', '12:30:00'],
  ['yaml timestamp', '2001-12-14'],
  ['yaml sequence', '- x'],
  ['yaml colon space', ': '],
  ['yaml mapping', 'a: b'],
  ['yaml empty map', '{}'],
  ['yaml flow', '{a: 1, b: [2]}'],
  ['yaml empty seq', '[]'],
  ['yaml alias', '*alias'],
  ['yaml anchor', '&anchor x'],
  ['yaml tag', '!tag x'],
  ['yaml str tag', '!!str x'],
  ['yaml directive', '%YAML 1.2'],
  ['yaml reserved at', '@x'],
  ['yaml literal', '| x'],
  ['yaml folded', '> x'],
  ['yaml key marker', '? x'],
  ['yaml merge', '<<'],
  ['yaml doc start', '---'],
  ['yaml doc end', '...'],
  ['pg header lookalike', '[other]'],
  ['single quote and hash', "it's #1"],
  ['single quote and newline', "it's\nnext"],
  ['single quote, equals and spaces', " it's = ok "],
  ['single quote and reference', "it's ${HOME}"],
  ['single quote and backslash', "it's C:\\dir"],
  ['long', 'x'.repeat(60_000)],
  ['long with quotes and lines', `${"it's ".repeat(5_000)}\n${'"q" '.repeat(5_000)}`],
  ['longest stored', 'y'.repeat(64 * 1024)],
  ['just under the libpq line', 'z'.repeat(1_000)],
  ['long multibyte', 'é'.repeat(20_000)],
];

// Every C0 control but NUL, DEL and every C1 control, one value each so a failure names it.
const controls: [string, string][] = [
  ...Array.from({ length: 0x1f }, (_, index) => index + 1),
  0x7f,
  ...Array.from({ length: 0x20 }, (_, index) => index + 0x80),
].map((code) => [`control U+${hex(code)}`, `a${String.fromCharCode(code)}b`]);

export const HOSTILE_VALUES: readonly HostileValue[] = [...named, ...controls].map(([label, value]) => ({ label, value }));

/**
 * Random values heavy in the characters that matter to quoting, plus arbitrary text; a fixed
 * seed, so a failure reproduces. Labelled by index (the value may be unprintable).
 */
export function sampledValues(count: number, seed: number): HostileValue[] {
  const quoting = fc.constantFrom("'", '"', '`', '\\', 'n', 'r', '\n', '\r', ' ', '\t', '#', '$', '{', '}', '-', '=', ':', 'a', 'é', '😀', '\u2028', '\u0085', '\u007f', '\ufeff', '\u0001');
  const value = fc
    .oneof(fc.string({ unit: quoting, maxLength: 24 }), fc.string({ unit: 'grapheme', maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 40 }))
    // Refused before they are stored: NUL, and lone surrogates (no UTF-8 form).
    .filter((text) => !text.includes('\0') && !/\p{Cs}/u.test(text));
  return fc.sample(value, { numRuns: count, seed }).map((text, index) => ({ label: `sample ${index}`, value: text }));
}
