import { z } from "zod";

/** Parsers for the string fields of Redis hashes (records are flat string maps). */
export const storedFields = {
  /** A number, or null when the field is absent or empty. */
  optionalNumber: z
    .string()
    .optional()
    .transform((raw) => (raw ? Number(raw) : null)),
  /** A string, or null when the field is absent or empty. */
  optionalString: z
    .string()
    .optional()
    .transform((raw) => (raw === undefined || raw === "" ? null : raw)),
  /** A JSON array of strings. */
  stringList: z.string().transform((raw) => z.array(z.string()).parse(JSON.parse(raw))),
};
