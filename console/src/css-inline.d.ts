// Vite's `?inline` CSS import: the stylesheet's text, for a shadow root's adoptedStyleSheets.
declare module '*.css?inline' {
  const css: string;
  export default css;
}
