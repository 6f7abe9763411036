import { type Schema, array, map, str, stringMap, strings, struct } from '../body-schema.ts';

// The JSON-valued query parameters of POST /build, as dockerd decodes them.

/** buildargs: map[string]*string (a null value takes the variable from the builder's environment). */
export const buildArgsSchema = (): Schema => map({ type: ['string', 'null'], 'x-go': '*string' });
export const buildLabelsSchema = (): Schema => stringMap();
/** cachefrom (and berth's berthsecrets): []string. */
export const stringListSchema = (): Schema => strings();
/** outputs: []{Type, Attrs} (BuildKit's exporter entries; the legacy builder reads only Type). */
export const buildOutputsSchema = (): Schema => array(struct({ Type: str(), Attrs: stringMap() }));
