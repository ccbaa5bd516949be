// Prettier, set to the layout the code was written in: single quotes, semicolons, trailing commas
// wherever allowed, parentheses around every arrow parameter (the last three are Prettier's
// defaults). 150 columns is the width at which reformatting the tree moved the fewest lines.
// `npm run format` rewrites, `npm run format:check` (CI) only reports.

/** @type {import('prettier').Config} */
export default {
  printWidth: 150,
  singleQuote: true,
  // The YAML configs and manifests quote with double quotes.
  overrides: [{ files: ['*.yaml', '*.yml'], options: { singleQuote: false } }],
};
