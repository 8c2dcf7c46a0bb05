export * from './markdown-chunker';
