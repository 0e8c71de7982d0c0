export function greet(greeting, name) {
  return `${greeting ?? "Hello"}, ${name}!`;
}
