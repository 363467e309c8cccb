export function main(argv: string[]): void { console.log('hello', argv); }
