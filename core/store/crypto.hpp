#pragma once
// Secrets from libsodium's CSPRNG and the digests they are stored as. A secret never reaches the
// database or a log line; only token_digest() of it does, which is why lookups can be O(1): the
// generated secrets carry 128+ bits of entropy, so an unsalted digest gives nothing away.
#include <cstddef>
#include <string>
#include <string_view>

namespace hubd::core::store {

// sodium_init() once; safe to call from any thread, any number of times. Aborts if libsodium
// cannot initialise (no usable randomness), since no secret could be generated safely.
void ensure_sodium();

// 32 lowercase hex characters (16 random bytes): the shape of JupyterHub's API tokens.
std::string generate_token();
// `n` characters from [A-Za-z0-9]: OAuth codes and access tokens (oauthlib's default, n = 30).
std::string random_string(std::size_t n);
// `bytes` random bytes, base64url without padding: share codes (32 bytes), cookie ids.
std::string random_urlsafe(std::size_t bytes);
// `bytes` raw random bytes.
std::string random_bytes(std::size_t bytes);

// BLAKE2b-256 of the secret: 32 raw bytes. Used for API tokens, OAuth codes, client secrets and
// share codes alike.
std::string token_digest(std::string_view secret);
// Display prefix: the first 4 characters of a secret (what JupyterHub shows and indexes).
std::string token_prefix(std::string_view secret);

bool equal_constant_time(std::string_view a, std::string_view b);

std::string to_hex(std::string_view bytes);
// Empty optional-like failure is reported as false; `out` is filled on success.
bool from_hex(std::string_view hex, std::string& out);
// Accepts standard and URL-safe alphabets, with or without padding.
bool from_base64(std::string_view text, std::string& out);
std::string to_base64url(std::string_view bytes);

}  // namespace hubd::core::store
