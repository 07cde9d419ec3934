#include "json_value.h"

#include <cstdlib>
#include <cstring>

namespace sie {
namespace {

constexpr int kMaxDepth = 16;

class JsonReader {
 public:
  JsonReader(const char* text, size_t length) : p_(text), end_(text + length) {}

  JsonValue document() {
    JsonValue v = value(0);
    skip_space();
    if (p_ != end_) fail("trailing characters after the JSON value");
    return v;
  }

 private:
  [[noreturn]] void fail(const std::string& what) { throw JsonSyntaxError(what); }

  void skip_space() {
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }
  char peek() {
    skip_space();
    if (p_ >= end_) fail("unexpected end of JSON");
    return *p_;
  }
  void expect(char c) {
    if (peek() != c) fail(std::string("expected '") + c + "'");
    ++p_;
  }
  void literal(const char* word) {
    const size_t n = std::strlen(word);
    if (size_t(end_ - p_) < n || std::memcmp(p_, word, n) != 0) fail("invalid literal");
    p_ += n;
  }

  JsonValue value(int depth) {
    if (depth > kMaxDepth) fail("JSON nested too deeply");
    JsonValue v;
    const char c = peek();
    if (c == '{') {
      v.kind = JsonValue::Kind::Object;
      ++p_;
      if (peek() == '}') { ++p_; return v; }
      for (;;) {
        if (peek() != '"') fail("expected a string key");
        std::string key = string();
        expect(':');
        v.object.emplace_back(std::move(key), value(depth + 1));
        if (peek() == ',') { ++p_; continue; }
        expect('}');
        return v;
      }
    }
    if (c == '[') {
      v.kind = JsonValue::Kind::Array;
      ++p_;
      if (peek() == ']') { ++p_; return v; }
      for (;;) {
        v.array.push_back(value(depth + 1));
        if (peek() == ',') { ++p_; continue; }
        expect(']');
        return v;
      }
    }
    if (c == '"') {
      v.kind = JsonValue::Kind::String;
      v.string = string();
      return v;
    }
    if (c == 't') { literal("true"); v.kind = JsonValue::Kind::Bool; v.boolean = true; return v; }
    if (c == 'f') { literal("false"); v.kind = JsonValue::Kind::Bool; return v; }
    if (c == 'n') { literal("null"); return v; }
    return number();
  }

  std::string string() {
    ++p_;  // opening quote
    std::string out;
    while (p_ < end_ && *p_ != '"') {
      if (static_cast<unsigned char>(*p_) < 0x20) fail("control character in string");
      if (*p_ == '\\') {
        if (++p_ >= end_) break;
        switch (*p_) {
          case '"': case '\\': case '/': out += *p_; break;
          case 'b': out += '\b'; break;
          case 'f': out += '\f'; break;
          case 'n': out += '\n'; break;
          case 'r': out += '\r'; break;
          case 't': out += '\t'; break;
          case 'u': {
            if (end_ - p_ < 5) fail("truncated \\u escape");
            const unsigned code = std::strtoul(std::string(p_ + 1, 4).c_str(), nullptr, 16);
            // Names in safetensors headers are ASCII; other code points are kept as UTF-8.
            if (code < 0x80) out += char(code);
            else if (code < 0x800) { out += char(0xC0 | (code >> 6)); out += char(0x80 | (code & 0x3F)); }
            else { out += char(0xE0 | (code >> 12)); out += char(0x80 | ((code >> 6) & 0x3F)); out += char(0x80 | (code & 0x3F)); }
            p_ += 4;
            break;
          }
          default: fail("invalid escape in string");
        }
        ++p_;
        continue;
      }
      out += *p_++;
    }
    if (p_ >= end_) fail("unterminated string");
    ++p_;
    return out;
  }

  JsonValue number() {
    const char* start = p_;
    if (p_ < end_ && *p_ == '-') ++p_;
    bool integral = true;
    while (p_ < end_ && ((*p_ >= '0' && *p_ <= '9') || *p_ == '.' || *p_ == 'e' || *p_ == 'E' || *p_ == '+' || *p_ == '-')) {
      if (*p_ == '.' || *p_ == 'e' || *p_ == 'E') integral = false;
      ++p_;
    }
    if (p_ == start || (p_ == start + 1 && *start == '-')) fail("invalid JSON value");
    const std::string token(start, p_);
    JsonValue v;
    v.kind = JsonValue::Kind::Number;
    char* parse_end = nullptr;
    v.number = std::strtod(token.c_str(), &parse_end);
    if (parse_end != token.c_str() + token.size()) fail("invalid number");
    if (integral && token.size() <= 18) {
      v.is_integer = true;
      v.integer = std::strtoll(token.c_str(), nullptr, 10);
    }
    return v;
  }

  const char* p_;
  const char* end_;
};

}  // namespace

JsonValue parse_json(const char* text, size_t length) { return JsonReader(text, length).document(); }

}  // namespace sie
