/**
 * Random container names in Docker's `adjective_surname` style (`distracted_meitner`). The word
 * lists are Berth's own: mood-like adjectives and surnames of scientists, mathematicians and
 * engineers. Pure apart from the injected random source.
 */
import { EngineError } from './errors.ts';

/** Adjectives: a mood or character trait, lowercase ASCII, no underscores. */
export const ADJECTIVES: readonly string[] = [
  'admiring', 'adoring', 'agitated', 'amazing', 'amused', 'angry', 'anxious', 'ardent', 'artful', 'awake',
  'bashful', 'beaming', 'blissful', 'bold', 'boring', 'brave', 'breezy', 'bright', 'brisk', 'busy',
  'calm', 'candid', 'careful', 'charming', 'cheerful', 'chipper', 'clever', 'cool', 'cozy', 'crafty',
  'curious', 'daring', 'dazzling', 'determined', 'diligent', 'distracted', 'dreamy', 'eager', 'earnest', 'ecstatic',
  'elated', 'elegant', 'epic', 'fervent', 'festive', 'fierce', 'focused', 'friendly', 'frosty', 'funny',
  'gallant', 'gentle', 'giddy', 'gleeful', 'goofy', 'graceful', 'grumpy', 'happy', 'hardy', 'hopeful',
  'humble', 'hungry', 'inspiring', 'intrepid', 'jolly', 'jovial', 'keen', 'kind', 'laughing', 'lively',
  'loving', 'lucid', 'merry', 'mellow', 'modest', 'musing', 'mystic', 'nervous', 'nifty', 'nimble',
  'nostalgic', 'patient', 'peaceful', 'pensive', 'plucky', 'polite', 'proud', 'quiet', 'quirky', 'radiant',
  'relaxed', 'restless', 'serene', 'sharp', 'silly', 'sleepy', 'sober', 'spirited', 'steady', 'stoic',
  'sunny', 'swift', 'tender', 'thirsty', 'tranquil', 'upbeat', 'vibrant', 'vigilant', 'wizardly', 'zealous',
];

/** Surnames of notable scientists, mathematicians and engineers, lowercase ASCII. */
export const SURNAMES: readonly string[] = [
  'agnesi', 'alhazen', 'ampere', 'archimedes', 'aryabhata', 'avogadro', 'babbage', 'banach', 'bardeen', 'bell',
  'bernoulli', 'bohr', 'boltzmann', 'boole', 'bose', 'brahe', 'brattain', 'burnell', 'cannon', 'cantor',
  'carnot', 'carson', 'cauchy', 'cavendish', 'cerf', 'chandrasekhar', 'chebyshev', 'clarke', 'coulomb', 'curie',
  'darwin', 'dedekind', 'descartes', 'dijkstra', 'dirac', 'doppler', 'easley', 'edison', 'einstein', 'elion',
  'engelbart', 'erdos', 'euclid', 'euler', 'faraday', 'fermat', 'fermi', 'feynman', 'fibonacci', 'fourier',
  'franklin', 'galileo', 'galois', 'gauss', 'germain', 'gibbs', 'godel', 'goodall', 'hamilton', 'hamming',
  'hawking', 'heisenberg', 'hertz', 'hilbert', 'hodgkin', 'hooke', 'hopper', 'hubble', 'huygens', 'hypatia',
  'jackson', 'jacobi', 'jemison', 'johnson', 'joule', 'kare', 'kelvin', 'kepler', 'khayyam', 'kilby',
  'knuth', 'kolmogorov', 'kovalevskaya', 'lagrange', 'lamarr', 'lamport', 'laplace', 'lavoisier', 'leavitt', 'leibniz',
  'lemaitre', 'liskov', 'lovelace', 'lumiere', 'maxwell', 'mccarthy', 'mcclintock', 'meitner', 'mendel', 'mendeleev',
  'minsky', 'mirzakhani', 'morse', 'napier', 'nash', 'neumann', 'newton', 'noether', 'noyce', 'ohm',
  'pascal', 'pasteur', 'pauli', 'pauling', 'perlman', 'planck', 'poincare', 'ptolemy', 'raman', 'ramanujan',
  'riemann', 'ritchie', 'roentgen', 'rubin', 'rutherford', 'sagan', 'salk', 'sanger', 'schrodinger', 'shannon',
  'shockley', 'somerville', 'stallman', 'tesla', 'thompson', 'torvalds', 'turing', 'volta', 'wallace', 'watt',
  'wiener', 'wiles', 'wilson', 'wozniak', 'wright', 'wu', 'yalow', 'yonath', 'zuse', 'zwicky',
];

/** Options for generateName; `random` returns a float in [0, 1) (Math.random by default). */
export interface GenerateNameOptions {
  random?: () => number;
  /** Returned once random names keep colliding; Docker falls back to the 12-digit short ID. */
  fallback?: string;
}

const pick = <T>(list: readonly T[], random: () => number): T => list[Math.floor(random() * list.length) % list.length]!;

/** One random name; `retry` > 0 appends a random digit, as Docker's GetRandomName(retry) does. */
export function randomName(retry: number, random: () => number = Math.random): string {
  for (;;) {
    const name = `${pick(ADJECTIVES, random)}_${pick(SURNAMES, random)}`;
    // Docker's rule, kept: Steve Wozniak is not boring.
    if (name === 'boring_wozniak') continue;
    return retry > 0 ? name + String(Math.floor(random() * 10) % 10) : name;
  }
}

/**
 * A container name not yet `taken`. Like the Docker daemon it tries a plain name first, then up
 * to five names with a digit suffix; after that it returns `opts.fallback` when given (Docker uses
 * the short container ID) or keeps trying with longer numeric suffixes.
 * @throws EngineError Conflict when no free name is found (practically unreachable).
 */
export function generateName(taken: (name: string) => boolean, opts: GenerateNameOptions = {}): string {
  const random = opts.random ?? Math.random;
  for (let i = 0; i < 6; i++) {
    const name = randomName(i, random);
    if (!taken(name)) return name;
  }
  if (opts.fallback !== undefined) return opts.fallback;
  for (let i = 0; i < 1000; i++) {
    const name = randomName(0, random) + String(Math.floor(random() * 100_000));
    if (!taken(name)) return name;
  }
  throw new EngineError('Conflict', 'generate container name: all candidate names are taken');
}
