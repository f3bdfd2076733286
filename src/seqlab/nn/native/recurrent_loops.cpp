// Whole-sequence recurrent loops in C++: the input projection, the recurrent product and the
// gate arithmetic of every time step in one compiled function, shared between threads.
//
// Each loop writes what its numba twin in seqlab/nn/sequence_loops.py writes (same buffers,
// same "doubled tanh rows" convention, same step coordinates); read those first. What is added
// here is speed at every batch size:
//
// - The products are a register-blocked kernel over copies of W_ih and W_hh packed by panels of
//   16 hidden units (`pack_forward`): one panel holds, for every k, the 16 weights of each gate,
//   so a block of R rows keeps R x G vectors of 16 sums in registers, starts them at the bias,
//   adds x_t W_ih^T and h_{t-1} W_hh^T, and ends with the gate arithmetic, without writing the
//   pre-activations to memory. (The loops also accept projections computed by the caller.)
// - Threads take equal shares of a step's (panel, row block) pairs. A unit's gates, cell and
//   output depend only on its own panel, so one barrier per step suffices: h_t must be whole
//   before step t+1. In the backward sweep threads own panels: a thread computes delta of its
//   units' gates, waits once, and computes delta_t W_hh (W_hh read in place) for the same units,
//   which only its own next step reads.
// - Vectors are GCC's vector extension, so the compiler emits the widest SIMD of the machine it
//   builds on (the extension is compiled there, with -march=native).
//
// tanh is the same rational approximation as the numba kernels (Eigen's), NaN kept as NaN.
#include <torch/extension.h>

#include <omp.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <vector>

namespace {

constexpr int L = 16;  // units per panel: one vector of 16 floats
typedef float v16 __attribute__((vector_size(L * sizeof(float))));

inline v16 splat(float x) { return v16{x, x, x, x, x, x, x, x, x, x, x, x, x, x, x, x}; }

// Keeps a vector in a register: without it GCC folds the loads of the weight vectors into each
// multiply-add (R times the loads of the block), which leaves small blocks load-bound.
inline void in_register(v16& v) {
#if defined(__x86_64__)
  asm("" : "+v"(v));
#endif
}

// Loads and stores of the n <= 16 units of a panel; a full panel is one vector move (a memcpy of
// constant size compiles to it; one of variable size would be a library call)
inline v16 load(const float* p, int n) {
  v16 v = {};
  if (n == L)
    std::memcpy(&v, p, sizeof(v16));
  else
    std::memcpy(&v, p, n * sizeof(float));
  return v;
}

inline void store(float* p, v16 v, int n) {
  if (n == L)
    std::memcpy(p, &v, sizeof(v16));
  else
    std::memcpy(p, &v, n * sizeof(float));
}

// 1/q for q in [4.9e-3, 1]: with AVX-512 a 14-bit estimate and one Newton step (relative error
// below 1e-7, two multiply-adds instead of a division, which takes several times longer)
inline v16 reciprocal(v16 q) {
#if defined(__AVX512F__)
  const v16 r = __builtin_ia32_rcp14ps512_mask(q, splat(0.0f), static_cast<__mmask16>(-1));
  return r * (2.0f - q * r);
#else
  return 1.0f / q;
#endif
}

inline v16 tanh16(v16 x) {
  // Eigen's clamp: beyond it the approximation is exactly +-1 (+-inf included); a NaN compares
  // false and keeps its value
  const v16 c = splat(7.99881172180175781f);
  v16 y = x > c ? c : x;
  y = y < -c ? -c : y;
  const v16 x2 = y * y;
  v16 p = splat(-2.76076847742355e-16f);
  p = p * x2 + 2.00018790482477e-13f;
  p = p * x2 + -8.60467152213735e-11f;
  p = p * x2 + 5.12229709037114e-08f;
  p = p * x2 + 1.48572235717979e-05f;
  p = p * x2 + 6.37261928875436e-04f;
  p = p * x2 + 4.89352455891786e-03f;
  v16 q = splat(1.19825839466702e-06f);
  q = q * x2 + 1.18534705686654e-04f;
  q = q * x2 + 2.26843463243900e-03f;
  q = q * x2 + 4.89352518554385e-03f;
  return y * p * reciprocal(q);
}

// sigma(a) for a pre-activation whose row was not doubled: (1 + tanh(a/2)) / 2
inline v16 sigmoid16(v16 a) { return 0.5f + 0.5f * tanh16(0.5f * a); }

// acc[r][g] += sum_k rows[r][k] * panel[k][g][:]: the register block of a product.
// A multiply-add waits for the previous one into the same accumulator (about 4 cycles), so a
// block of fewer than 8 accumulators (one row at B = 1) sums C interleaved chains over k instead.
// `panel` holds, for each k, the G vectors one after another, the next k `kstride` floats on.
template <int G, int R>
inline void accumulate(v16 (&acc)[R][G], const float* const* rows, const float* panel, int K,
                       int64_t kstride = G * L) {
  constexpr int C = R * G >= 8 ? 1 : R * G >= 4 ? 2 : R * G >= 2 ? 4 : 8;
  // local accumulators and row pointers: with `acc` behind a reference the compiler must assume
  // that a store to it may change rows[r][k], and would spill every accumulator at each k
  v16 a[C][R][G];
  const float* row[R];
  for (int r = 0; r < R; ++r) {
    row[r] = rows[r];
    for (int g = 0; g < G; ++g) {
      a[0][r][g] = acc[r][g];
      for (int c = 1; c < C; ++c) a[c][r][g] = splat(0.0f);
    }
  }
  auto step = [&](int c, int k) {
    const float* w = panel + k * kstride;
    v16 wv[G];
#pragma GCC unroll 4
    for (int g = 0; g < G; ++g) {
      std::memcpy(&wv[g], w + g * L, sizeof(v16));
      in_register(wv[g]);
    }
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) {
      const v16 h = splat(row[r][k]);
#pragma GCC unroll 4
      for (int g = 0; g < G; ++g) a[c][r][g] += h * wv[g];
    }
  };
  int k = 0;
  for (; k + C <= K; k += C) {
#pragma GCC unroll 8
    for (int c = 0; c < C; ++c) step(c, k + c);
  }
  for (; k < K; ++k) step(0, k);
  for (int r = 0; r < R; ++r)
    for (int g = 0; g < G; ++g) {
      v16 sum = a[0][r][g];
      for (int c = 1; c < C; ++c) sum += a[c][r][g];
      acc[r][g] = sum;
    }
}

// Calls f.template operator()<R>() for the R == size, 1 <= size <= MaxR
template <int MaxR, class F>
inline void with_rows(int size, F&& f) {
  if constexpr (MaxR >= 1) {
    if (size == MaxR) return f.template operator()<MaxR>();
    with_rows<MaxR - 1>(size, f);
  }
}

// Rows [0, n) as blocks of at most MaxR rows, of nearly equal sizes (13 rows of MaxR 6: 5, 4, 4
// rather than 6, 6, 1, whose last block would load the weights for one row's multiply-adds)
struct Blocks {
  int64_t count, base, extra;
  Blocks(int64_t n, int max_rows)
      : count((n + max_rows - 1) / max_rows),
        base(count ? n / count : 0),
        extra(count ? n % count : 0) {}
  int64_t first(int64_t i) const { return i * base + std::min(i, extra); }
  int size(int64_t i) const { return static_cast<int>(base + (i < extra ? 1 : 0)); }
};

// f.template operator()<R>(b0) on each block of rows [b0, b0 + R) covering [0, n)
template <int MaxR, class F>
inline void row_blocks(int64_t n, F&& f) {
  const Blocks blocks(n, MaxR);
  for (int64_t i = 0; i < blocks.count; ++i) {
    const int64_t b0 = blocks.first(i);
    with_rows<MaxR>(blocks.size(i), [&]<int R>() { f.template operator()<R>(b0); });
  }
}

// f.template operator()<R>(p, b0) on this thread's share of the (panel, row block) pairs of a
// step of n rows: a contiguous range in panel-major order, so that the threads get equal work
// even where the panels do not divide among them (13 panels at H = 200)
template <int MaxR, class F>
inline void share(int64_t panels, int64_t n, int tid, int nt, F&& f) {
  const Blocks blocks(n, MaxR);
  const int64_t items = panels * blocks.count;
  for (int64_t item = items * tid / nt; item < items * (tid + 1) / nt; ++item) {
    const int64_t p = item / blocks.count, i = item % blocks.count, b0 = blocks.first(i);
    with_rows<MaxR>(blocks.size(i), [&]<int R>() { f.template operator()<R>(p, b0); });
  }
}

struct Step {
  int64_t t, prev, k, n;
};

std::vector<Step> read_steps(const at::Tensor& coords) {
  TORCH_CHECK(coords.dtype() == at::kLong && coords.dim() == 2 && coords.size(1) == 4,
              "coords must be (S, 4) int64");
  auto c = coords.contiguous();
  const int64_t* p = c.data_ptr<int64_t>();
  std::vector<Step> steps(c.size(0));
  for (int64_t s = 0; s < c.size(0); ++s) steps[s] = {p[4 * s], p[4 * s + 1], p[4 * s + 2], p[4 * s + 3]};
  return steps;
}

float* ptr(const at::Tensor& t) {
  TORCH_CHECK(t.dtype() == at::kFloat && t.is_contiguous() && t.device().is_cpu(),
              "expected a contiguous float32 CPU tensor");
  return t.data_ptr<float>();
}

float* maybe_ptr(const std::optional<at::Tensor>& t) {
  return t.has_value() && t->numel() > 0 ? ptr(*t) : nullptr;
}

// Threads for a loop whose steps cost about `flops`: below ~0.1 MFLOP a step the barrier and the
// split cost more than the second core gives.
int threads_for(int panels, int64_t flops) {
  int nt = std::min<int>(at::get_num_threads(), panels);
  if (flops < 100000) nt = 1;
  return std::max(nt, 1);
}

// The rows a step continues from: row b's previous state is states[prev, b] for b < k, else
// init[b]
inline void previous_rows(std::vector<const float*>& rows, const float* states, const float* init,
                          int64_t B, int64_t H, const Step& s) {
  for (int64_t b = 0; b < s.n; ++b)
    rows[b] = b < s.k ? states + (s.prev * B + b) * H : init + b * H;
}

}  // namespace

namespace {

// Where a forward loop gets the input projections W_ih x_t + b: from the gates buffer, filled by
// the caller (x == nullptr), or computed at each step for the block at hand from x (T, B, I) and
// W_ih packed like W_hh, so that no projection is written to memory and read back
struct Input {
  const float* x = nullptr;
  int64_t I = 0;
  const float* packed = nullptr;
  const float* bias = nullptr;

  Input(const std::optional<at::Tensor>& x_, const std::optional<at::Tensor>& packed_,
        const std::optional<at::Tensor>& bias_) {
    if (x_.has_value()) {
      x = ptr(*x_);
      I = x_->size(2);
      TORCH_CHECK(packed_.has_value() && packed_->size(1) == I, "x needs W_ih packed for it");
      packed = ptr(*packed_);
      bias = maybe_ptr(bias_);
    }
  }

  // acc[r][g] = b + x_t W_ih^T for rows [b0, b0 + R) of step t and the units of panel p
  template <int G, int R>
  void project(v16 (&acc)[R][G], int64_t t, int64_t B, int64_t H, int64_t b0, int64_t p, int j0,
               int nu) const {
    const float* rows[R];
    for (int r = 0; r < R; ++r) {
      rows[r] = x + (t * B + b0 + r) * I;
      for (int g = 0; g < G; ++g) acc[r][g] = bias ? load(bias + g * H + j0, nu) : splat(0.0f);
    }
    accumulate<G, R>(acc, rows, packed + p * I * G * L, static_cast<int>(I));
  }
};

}  // namespace

// W (G*H, K) row-major -> panels (P, K, G, 16): panel p, input k, gate g holds W[g*H + 16p + l, k]
// for l < 16, zero past H; the rows of gate `doubled` (if >= 0) times 2, the loops' tanh
// convention. The forward product reads it with K = H.
at::Tensor pack_forward(const at::Tensor& w, int64_t gates, int64_t doubled) {
  TORCH_CHECK(w.dim() == 2 && w.size(0) % gates == 0, "weight must be (G*H, K)");
  const int64_t H = w.size(0) / gates, K = w.size(1), P = (H + L - 1) / L;
  auto v = w.to(at::kFloat).reshape({gates, H, K});
  if (P * L != H) v = at::constant_pad_nd(v, {0, 0, 0, P * L - H});
  auto out = v.reshape({gates, P, L, K}).permute({1, 3, 0, 2}).contiguous();
  if (doubled >= 0) out.select(2, doubled).mul_(2);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Forward loops. `gates` (T, B, G*H) holds the input projections and is overwritten with the
// activated gates; the LSTM's may be absent when x is given (inference that wants no gates:
// 4H floats a row not written). `packed` is pack_forward(W_hh with the loop's doubled rows, G).
// The LSTM's cell states `c` are (T, B, H), or (2, B, H) where only the last step's are wanted
// (inference): step t writes slot t % 2 and reads the previous step's, the other slot.

void lstm_forward_steps(std::optional<at::Tensor> gates, at::Tensor packed, at::Tensor c,
                        std::optional<at::Tensor> tanh_c, at::Tensor y, at::Tensor h0,
                        at::Tensor c0, const std::vector<Step>& steps, const Input& in) {
  
  const int64_t B = y.size(1), H = y.size(2), P = packed.size(0);
  float *pg = maybe_ptr(gates), *pc = ptr(c), *py = ptr(y), *ptc = maybe_ptr(tanh_c);
  const int64_t slots = c.size(0) < y.size(0) ? c.size(0) : 0;  // 0: a slot per step
  TORCH_CHECK(slots == 0 || slots == 2, "c must be (T, B, H) or (2, B, H)");
  auto slot = [slots](int64_t t) { return slots && t >= 0 ? t % slots : t; };
  const float *ph0 = ptr(h0), *pc0 = ptr(c0), *pw = ptr(packed);
  const int nt = threads_for(P, 8 * B * H * H);
#pragma omp parallel num_threads(nt) if (nt > 1)
  {
    const int tid = omp_get_thread_num();
    std::vector<const float*> hrows(B), crows(B);
    for (const Step& s : steps) {
      previous_rows(hrows, py, ph0, B, H, s);
      previous_rows(crows, pc, pc0, B, H, Step{slot(s.t), slot(s.prev), s.k, s.n});
      float* cstep = pc + slot(s.t) * B * H;  // this step's cell states
      share<6>(P, s.n, tid, nt, [&]<int R>(int64_t p, int64_t b0) {
          const int j0 = p * L, nu = std::min<int64_t>(L, H - j0);
          const float* panel = pw + p * H * 4 * L;
          v16 acc[R][4];
          float* grow[R];
          for (int r = 0; r < R; ++r) grow[r] = pg ? pg + ((s.t * B) + b0 + r) * 4 * H : nullptr;
          if (in.x)
            in.project<4, R>(acc, s.t, B, H, b0, p, j0, nu);
          else
            for (int r = 0; r < R; ++r)
              for (int g = 0; g < 4; ++g) acc[r][g] = load(grow[r] + g * H + j0, nu);
          accumulate<4, R>(acc, hrows.data() + b0, panel, H);
          for (int r = 0; r < R; ++r) {
            const int64_t row = s.t * B + b0 + r;
            const v16 i = 0.5f + 0.5f * tanh16(0.5f * acc[r][0]);
            const v16 f = 0.5f + 0.5f * tanh16(0.5f * acc[r][1]);
            const v16 g = tanh16(0.5f * acc[r][2]);
            const v16 o = 0.5f + 0.5f * tanh16(0.5f * acc[r][3]);
            const v16 ct = f * load(crows[b0 + r] + j0, nu) + i * g;
            const v16 tc = tanh16(ct);
            if (pg) {
              store(grow[r] + j0, i, nu);
              store(grow[r] + H + j0, f, nu);
              store(grow[r] + 2 * H + j0, g, nu);
              store(grow[r] + 3 * H + j0, o, nu);
            }
            store(cstep + (b0 + r) * H + j0, ct, nu);
            if (ptc) store(ptc + row * H + j0, tc, nu);
            store(py + row * H + j0, o * tc, nu);
          }
        });
#pragma omp barrier
    }
  }
}

void lstm_forward(std::optional<at::Tensor> gates, at::Tensor packed, at::Tensor c,
                  std::optional<at::Tensor> tanh_c, at::Tensor y, at::Tensor h0, at::Tensor c0,
                  at::Tensor coords, std::optional<at::Tensor> x,
                  std::optional<at::Tensor> packed_ih, std::optional<at::Tensor> bias) {
  lstm_forward_steps(gates, packed, c, tanh_c, y, h0, c0, read_steps(coords),
                     Input(x, packed_ih, bias));
}

void gru_forward_steps(at::Tensor gates, at::Tensor packed, at::Tensor b_hn, std::optional<at::Tensor> m,
                 at::Tensor y, at::Tensor h0, const std::vector<Step>& steps, const Input& in) {
  
  const int64_t B = y.size(1), H = y.size(2), P = packed.size(0);
  float *pg = ptr(gates), *py = ptr(y), *pm = maybe_ptr(m);
  const float *ph0 = ptr(h0), *pw = ptr(packed), *pb = ptr(b_hn);
  const int nt = threads_for(P, 6 * B * H * H);
#pragma omp parallel num_threads(nt) if (nt > 1)
  {
    const int tid = omp_get_thread_num();
    std::vector<const float*> hrows(B);
    for (const Step& s : steps) {
      previous_rows(hrows, py, ph0, B, H, s);
      share<8>(P, s.n, tid, nt, [&]<int R>(int64_t p, int64_t b0) {
          const int j0 = p * L, nu = std::min<int64_t>(L, H - j0);
          const float* panel = pw + p * H * 3 * L;
          const v16 bn = load(pb + j0, nu);
          v16 acc[R][3], n_in[R];
          float* grow[R];
          for (int r = 0; r < R; ++r) grow[r] = pg + ((s.t * B) + b0 + r) * 3 * H;
          if (in.x)
            in.project<3, R>(acc, s.t, B, H, b0, p, j0, nu);
          else
            for (int r = 0; r < R; ++r)
              for (int g = 0; g < 3; ++g) acc[r][g] = load(grow[r] + g * H + j0, nu);
          for (int r = 0; r < R; ++r) {
            n_in[r] = acc[r][2];
            acc[r][2] = splat(0.0f);  // W_hn h_{t-1} alone: r multiplies it with b_hn
          }
          accumulate<3, R>(acc, hrows.data() + b0, panel, H);
          for (int r = 0; r < R; ++r) {
            const int64_t row = s.t * B + b0 + r;
            const v16 rg = sigmoid16(acc[r][0]);
            const v16 z = sigmoid16(acc[r][1]);
            const v16 mj = acc[r][2] + bn;
            const v16 cand = tanh16(0.5f * n_in[r] + rg * mj);
            const v16 hp = load(hrows[b0 + r] + j0, nu);
            store(grow[r] + j0, rg, nu);
            store(grow[r] + H + j0, z, nu);
            store(grow[r] + 2 * H + j0, cand, nu);
            if (pm) store(pm + row * H + j0, mj, nu);
            store(py + row * H + j0, cand + z * (hp - cand), nu);
          }
        });
#pragma omp barrier
    }
  }
}

void gru_forward(at::Tensor gates, at::Tensor packed, at::Tensor b_hn, std::optional<at::Tensor> m,
                 at::Tensor y, at::Tensor h0, at::Tensor coords, std::optional<at::Tensor> x,
                 std::optional<at::Tensor> packed_ih, std::optional<at::Tensor> bias) {
  gru_forward_steps(gates, packed, b_hn, m, y, h0, read_steps(coords), Input(x, packed_ih, bias));
}

// y[t] holds 2(W_ih x_t + b) and becomes h_t; rows past a step's n are set to zero
void rnn_tanh_forward_steps(at::Tensor y, at::Tensor packed, at::Tensor h0,
                            const std::vector<Step>& steps, const Input& in) {
  
  const int64_t B = y.size(1), H = y.size(2), P = packed.size(0);
  float* py = ptr(y);
  const float *ph0 = ptr(h0), *pw = ptr(packed);
  const int nt = threads_for(P, 2 * B * H * H);
#pragma omp parallel num_threads(nt) if (nt > 1)
  {
    const int tid = omp_get_thread_num();
    std::vector<const float*> hrows(B);
    for (const Step& s : steps) {
      previous_rows(hrows, py, ph0, B, H, s);
      if (tid == 0)  // rows that have ended: zero output (no thread reads them at this step)
        for (int64_t b = s.n; b < B; ++b) std::memset(py + (s.t * B + b) * H, 0, H * sizeof(float));
      share<16>(P, s.n, tid, nt, [&]<int R>(int64_t p, int64_t b0) {
          const int j0 = p * L, nu = std::min<int64_t>(L, H - j0);
          const float* panel = pw + p * H * L;
          v16 acc[R][1];
          if (in.x)
            in.project<1, R>(acc, s.t, B, H, b0, p, j0, nu);
          else
            for (int r = 0; r < R; ++r) acc[r][0] = load(py + (s.t * B + b0 + r) * H + j0, nu);
          accumulate<1, R>(acc, hrows.data() + b0, panel, H);
          for (int r = 0; r < R; ++r)
            store(py + (s.t * B + b0 + r) * H + j0, tanh16(0.5f * acc[r][0]), nu);
        });
#pragma omp barrier
    }
  }
}

void rnn_tanh_forward(at::Tensor y, at::Tensor packed, at::Tensor h0, at::Tensor coords,
                      std::optional<at::Tensor> x, std::optional<at::Tensor> packed_ih,
                      std::optional<at::Tensor> bias) {
  rnn_tanh_forward_steps(y, packed, h0, read_steps(coords), Input(x, packed_ih, bias));
}

// ---------------------------------------------------------------------------------------------
// Backward sweeps, last step first. `w_hh` is W_hh as the numba loop receives it, (Q, H), its
// rows padded to a multiple of 16 floats (seqlab.nn.native.backward_weights), read in place;
// `carried` (B, H) is scratch; returns the rows of the last `carried` (delta W_hh of the first
// visited step), which the caller adds to dh.

namespace {

// The row length of W_hh (Q, ldw) as backward_weights gives it: the last panel's 16 floats must
// be there to load, zeros past H
int64_t padded_rows(const at::Tensor& w_hh, int64_t Q, int64_t H) {
  const int64_t ldw = w_hh.size(1);
  TORCH_CHECK(w_hh.dim() == 2 && w_hh.size(0) == Q && ldw >= H && ldw % L == 0,
              "W_hh must be (G*H, H) with rows padded to a multiple of 16 (backward_weights)");
  return ldw;
}

// carried[b, units [j0, j0 + 16)] = d[b] (Q,) W[:, units] for b < n, d rows `stride` floats
// apart, W (Q, ldw) row-major with ldw a multiple of 16 (`w` points at W[0, j0])
inline void back_product(const float* d, int64_t Q, int64_t stride, const float* w, int64_t ldw,
                         float* carried, int64_t H, int j0, int nu, int64_t n) {
  row_blocks<12>(n, [&]<int R>(int b0) {
    v16 acc[R][1];
    const float* rows[R];
    for (int r = 0; r < R; ++r) {
      acc[r][0] = splat(0.0f);
      rows[r] = d + (b0 + r) * stride;
    }
    accumulate<1, R>(acc, rows, w, Q, ldw);
    for (int r = 0; r < R; ++r) store(carried + (b0 + r) * H + j0, acc[r][0], nu);
  });
}

// dh_t = dh + dy[t] (stored in state_grads when asked for), for row b's units [j0, j0 + nu)
inline v16 total_derivative(float* dh, const float* dy, float* state_grads, int64_t t, int64_t b,
                            int64_t B, int64_t H, int j0, int nu) {
  v16 d = load(dh + b * H + j0, nu);
  if (dy) {
    d += load(dy + (t * B + b) * H + j0, nu);
    store(dh + b * H + j0, d, nu);
  }
  if (state_grads) store(state_grads + (t * B + b) * H + j0, d, nu);
  return d;
}

}  // namespace

int64_t lstm_backward(at::Tensor dh, at::Tensor dc, std::optional<at::Tensor> dy, at::Tensor gates,
                      at::Tensor tanh_c, at::Tensor c, at::Tensor c0, at::Tensor d_pre,
                      std::optional<at::Tensor> state_grads, at::Tensor w_hh, at::Tensor carried,
                      at::Tensor coords) {
  const auto steps = read_steps(coords);
  const int64_t B = dh.size(0), H = dh.size(1), P = (H + L - 1) / L, Q = 4 * H;
  const int64_t ldw = padded_rows(w_hh, Q, H);
  const int64_t stride = d_pre.size(2);  // Q, or more: rows 4 KiB apart would share an L1 set
  TORCH_CHECK(stride >= Q, "d_pre rows must hold 4H floats or more");
  float *pdh = ptr(dh), *pdc = ptr(dc), *pd = ptr(d_pre), *pcar = ptr(carried),
        *psg = maybe_ptr(state_grads);
  const float *pdy = maybe_ptr(dy), *pg = ptr(gates), *ptc = ptr(tanh_c), *pc = ptr(c),
              *pc0 = ptr(c0), *pw = ptr(w_hh);
  const int nt = threads_for(P, 8 * B * H * H);
  int64_t rows = 0;
#pragma omp parallel num_threads(nt) if (nt > 1)
  {
    const int tid = omp_get_thread_num();
    int64_t taken = 0;  // rows of `carried` written by the step processed before
    for (auto it = steps.rbegin(); it != steps.rend(); ++it) {
      const Step& s = *it;
      for (int64_t p = tid; p < P; p += nt) {
        const int j0 = p * L, nu = std::min<int64_t>(L, H - j0);
        for (int64_t b = 0; b < taken; ++b) store(pdh + b * H + j0, load(pcar + b * H + j0, nu), nu);
        for (int64_t b = 0; b < s.n; ++b) {
          const v16 dht = total_derivative(pdh, pdy, psg, s.t, b, B, H, j0, nu);
          const float* cp = b < s.k ? pc + (s.prev * B + b) * H : pc0 + b * H;
          const float* a = pg + (s.t * B + b) * Q;
          float* d = pd + (s.t * B + b) * stride;
          const v16 i = load(a + j0, nu), f = load(a + H + j0, nu), g = load(a + 2 * H + j0, nu),
                    o = load(a + 3 * H + j0, nu), tc = load(ptc + (s.t * B + b) * H + j0, nu);
          const v16 dct = load(pdc + b * H + j0, nu) + dht * o * (1.0f - tc * tc);
          store(d + j0, dct * g * i * (1.0f - i), nu);
          store(d + H + j0, dct * load(cp + j0, nu) * f * (1.0f - f), nu);
          store(d + 2 * H + j0, dct * i * (1.0f - g * g), nu);
          store(d + 3 * H + j0, dht * tc * o * (1.0f - o), nu);
          store(pdc + b * H + j0, dct * f, nu);
        }
      }
#pragma omp barrier
      for (int64_t p = tid; p < P; p += nt) {
        const int j0 = p * L, nu = std::min<int64_t>(L, H - j0);
        back_product(pd + s.t * B * stride, Q, stride, pw + j0, ldw, pcar, H, j0, nu, s.n);
      }
      taken = s.n;
      // no barrier: the next step's delta reads only this thread's own units of `carried`
    }
#pragma omp single
    rows = taken;
  }
  return rows;
}

int64_t gru_backward(at::Tensor dh, at::Tensor through_z, std::optional<at::Tensor> dy,
                     at::Tensor gates, at::Tensor m, at::Tensor y, at::Tensor h0, at::Tensor d_rec,
                     at::Tensor d_cand, std::optional<at::Tensor> state_grads, at::Tensor w_hh,
                     at::Tensor carried, at::Tensor coords) {
  const auto steps = read_steps(coords);
  const int64_t B = dh.size(0), H = dh.size(1), P = (H + L - 1) / L, Q = 3 * H;
  const int64_t ldw = padded_rows(w_hh, Q, H);
  float *pdh = ptr(dh), *pz = ptr(through_z), *pd = ptr(d_rec), *pn = ptr(d_cand),
        *pcar = ptr(carried), *psg = maybe_ptr(state_grads);
  const float *pdy = maybe_ptr(dy), *pg = ptr(gates), *pm = ptr(m), *py = ptr(y), *ph0 = ptr(h0),
              *pw = ptr(w_hh);
  const int nt = threads_for(P, 6 * B * H * H);
  int64_t rows = 0;
#pragma omp parallel num_threads(nt) if (nt > 1)
  {
    const int tid = omp_get_thread_num();
    int64_t taken = 0;
    for (auto it = steps.rbegin(); it != steps.rend(); ++it) {
      const Step& s = *it;
      for (int64_t p = tid; p < P; p += nt) {
        const int j0 = p * L, nu = std::min<int64_t>(L, H - j0);
        for (int64_t b = 0; b < taken; ++b)
          store(pdh + b * H + j0, load(pz + b * H + j0, nu) + load(pcar + b * H + j0, nu), nu);
        for (int64_t b = 0; b < s.n; ++b) {
          const v16 dht = total_derivative(pdh, pdy, psg, s.t, b, B, H, j0, nu);
          const float* hp = b < s.k ? py + (s.prev * B + b) * H : ph0 + b * H;
          const float* a = pg + (s.t * B + b) * Q;
          float* d = pd + (s.t * B + b) * Q;
          const v16 r = load(a + j0, nu), z = load(a + H + j0, nu), cand = load(a + 2 * H + j0, nu);
          const v16 dn = (dht - dht * z) * (1.0f - cand * cand);
          store(pz + b * H + j0, dht * z, nu);
          store(pn + (s.t * B + b) * H + j0, dn, nu);
          store(d + H + j0, (load(hp + j0, nu) - cand) * dht * z * (1.0f - z), nu);
          store(d + j0, dn * load(pm + (s.t * B + b) * H + j0, nu) * r * (1.0f - r), nu);
          store(d + 2 * H + j0, dn * r, nu);
        }
      }
#pragma omp barrier
      for (int64_t p = tid; p < P; p += nt) {
        const int j0 = p * L, nu = std::min<int64_t>(L, H - j0);
        back_product(pd + s.t * B * Q, Q, Q, pw + j0, ldw, pcar, H, j0, nu, s.n);
      }
      taken = s.n;
    }
#pragma omp single
    rows = taken;
  }
  return rows;
}

int64_t rnn_tanh_backward(at::Tensor dh, std::optional<at::Tensor> dy, at::Tensor y,
                          at::Tensor d_pre, std::optional<at::Tensor> state_grads,
                          at::Tensor w_hh, at::Tensor carried, at::Tensor coords) {
  const auto steps = read_steps(coords);
  const int64_t B = dh.size(0), H = dh.size(1), P = (H + L - 1) / L, Q = H;
  const int64_t ldw = padded_rows(w_hh, Q, H);
  float *pdh = ptr(dh), *pd = ptr(d_pre), *pcar = ptr(carried), *psg = maybe_ptr(state_grads);
  const float *pdy = maybe_ptr(dy), *py = ptr(y), *pw = ptr(w_hh);
  const int nt = threads_for(P, 2 * B * H * H);
  int64_t rows = 0;
#pragma omp parallel num_threads(nt) if (nt > 1)
  {
    const int tid = omp_get_thread_num();
    int64_t taken = 0;
    for (auto it = steps.rbegin(); it != steps.rend(); ++it) {
      const Step& s = *it;
      for (int64_t p = tid; p < P; p += nt) {
        const int j0 = p * L, nu = std::min<int64_t>(L, H - j0);
        for (int64_t b = 0; b < taken; ++b) store(pdh + b * H + j0, load(pcar + b * H + j0, nu), nu);
        for (int64_t b = 0; b < s.n; ++b) {
          const v16 dht = total_derivative(pdh, pdy, psg, s.t, b, B, H, j0, nu);
          const v16 h = load(py + (s.t * B + b) * H + j0, nu);
          store(pd + (s.t * B + b) * Q + j0, dht * (1.0f - h * h), nu);
        }
      }
#pragma omp barrier
      for (int64_t p = tid; p < P; p += nt) {
        const int j0 = p * L, nu = std::min<int64_t>(L, H - j0);
        back_product(pd + s.t * B * Q, Q, Q, pw + j0, ldw, pcar, H, j0, nu, s.n);
      }
      taken = s.n;
    }
#pragma omp single
    rows = taken;
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------
// One decoding step in one call, no autograd: x (B, I); h, c (B, H); the weights packed as for
// the loops above (doubled tanh rows).

namespace {

std::vector<Step> one_step(int64_t rows) { return {Step{0, -1, 0, rows}}; }

}  // namespace

std::vector<at::Tensor> lstm_step(at::Tensor x, at::Tensor h, at::Tensor c, at::Tensor packed_ih,
                                  std::optional<at::Tensor> bias, at::Tensor packed_hh) {
  const int64_t B = h.size(0), H = h.size(1);
  auto gates = at::empty({1, B, 4 * H}, h.options());
  auto h_new = at::empty({1, B, H}, h.options()), c_new = at::empty({1, B, H}, h.options());
  lstm_forward_steps(gates, packed_hh, c_new, std::nullopt, h_new, h.contiguous(), c.contiguous(),
                     one_step(B), Input(x.contiguous().view({1, B, -1}), packed_ih, bias));
  return {h_new[0], c_new[0], gates[0]};
}

std::vector<at::Tensor> gru_step(at::Tensor x, at::Tensor h, at::Tensor packed_ih,
                                 std::optional<at::Tensor> bias, at::Tensor packed_hh,
                                 at::Tensor b_hn) {
  const int64_t B = h.size(0), H = h.size(1);
  auto gates = at::empty({1, B, 3 * H}, h.options()), h_new = at::empty({1, B, H}, h.options());
  gru_forward_steps(gates, packed_hh, b_hn, std::nullopt, h_new, h.contiguous(), one_step(B),
                    Input(x.contiguous().view({1, B, -1}), packed_ih, bias));
  return {h_new[0], gates[0]};
}

at::Tensor rnn_tanh_step(at::Tensor x, at::Tensor h, at::Tensor packed_ih,
                         std::optional<at::Tensor> bias, at::Tensor packed_hh) {
  const int64_t B = h.size(0), H = h.size(1);
  auto h_new = at::empty({1, B, H}, h.options());
  rnn_tanh_forward_steps(h_new, packed_hh, h.contiguous(), one_step(B),
                         Input(x.contiguous().view({1, B, -1}), packed_ih, bias));
  return h_new[0];
}

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.def("lstm_step", &lstm_step);
  m.def("gru_step", &gru_step);
  m.def("rnn_tanh_step", &rnn_tanh_step);
  m.def("pack_forward", &pack_forward, pybind11::arg("w"), pybind11::arg("gates"),
        pybind11::arg("doubled") = -1);
  m.def("lstm_forward", &lstm_forward);
  m.def("gru_forward", &gru_forward);
  m.def("rnn_tanh_forward", &rnn_tanh_forward);
  m.def("lstm_backward", &lstm_backward);
  m.def("gru_backward", &gru_backward);
  m.def("rnn_tanh_backward", &rnn_tanh_backward);
}
