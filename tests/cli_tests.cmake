# Command-line tests for the relutope binary (target relutope_cli).
#
# Each test runs the binary through `sh -c` and echoes its exit code last, as "exit=N", so that one
# PASS_REGULAR_EXPRESSION checks both what it printed (stdout and stderr together) and how it ended.
# Exit codes (tools/relutope/main.cpp): 0 ok, 1 usage error, 2 bad input (file, model, domain),
# 3 internal error, 4 the answer cannot be certified.
# Tests run in the source directory, so paths (and the messages that repeat them) are relative.
#
# The shell text must not contain semicolons (CMake would split the argument there): use newlines.
# Regular expressions are CMake's: "." also matches a newline. Bracket arguments [[...]] need no escaping.

# relutope_cli_expect(NAME EXIT_CODE REGEX ARGS...): `relutope ARGS...` prints something matching REGEX
# and exits with EXIT_CODE.
function(relutope_cli_expect name exit_code regex)
  add_test(NAME cli.${name}
           COMMAND sh -c "\"$0\" \"$@\" 2>&1\necho exit=$?" $<TARGET_FILE:relutope_cli> ${ARGN}
           WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
  # No progress lines in the output the regex reads: a run past 10 s (the sanitizers, a loaded machine)
  # logs one on stderr before its count (the progress tests set the interval themselves).
  set_tests_properties(cli.${name} PROPERTIES
                       PASS_REGULAR_EXPRESSION "${regex}.*exit=${exit_code}([^0-9]|$)"
                       ENVIRONMENT "RELUTOPE_PROGRESS_SECONDS=1e9"
                       TIMEOUT 120)
endfunction()

# relutope_cli_test(NAME REGEX ARGS...): succeeds (exit 0) and prints something matching REGEX.
function(relutope_cli_test name regex)
  relutope_cli_expect(${name} 0 "${regex}" ${ARGN})
endfunction()

# relutope_cli_script(NAME REGEX SCRIPT): the sh SCRIPT, with $RELUTOPE the binary, prints REGEX.
function(relutope_cli_script name regex script)
  add_test(NAME cli.${name}
           COMMAND sh -c "RELUTOPE=\"$0\"\n${script}" $<TARGET_FILE:relutope_cli>
           WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
  set_tests_properties(cli.${name} PROPERTIES PASS_REGULAR_EXPRESSION "${regex}" TIMEOUT 120)
endfunction()

set(relutope_cli_data tests/data)
set(relutope_cli_bad tests/data/bad)

# ---------------------------------------------------------------------------------------------- counting

relutope_cli_test(count.tiny_2d_has_four_quadrants "^4 regions.*domain +\\[-1,1\\]\\^2 \\(from the model file\\)"
                  count ${relutope_cli_data}/tiny_2d.json)
relutope_cli_test(count.one_layer_1d_has_four_intervals "^4 regions" count ${relutope_cli_data}/one_layer_1d.json)
relutope_cli_test(count.two_moons_uses_the_default_box "^[0-9,]+ regions.*hidden 16,16,16 \\(48 neurons\\).*\\(default"
                  count examples/two_moons.onnx)
relutope_cli_test(count.box_as_two_tokens_takes_a_negative_value "^[0-9,]+ regions.*domain +\\[-1,1\\]\\^2"
                  count examples/two_moons.onnx --box -1:1)
relutope_cli_test(count.box_with_equals_sign "^[0-9,]+ regions.*domain +\\[-1,1\\]\\^2"
                  count examples/two_moons.onnx --box=-1:1)
relutope_cli_test(count.box_per_dimension "^[0-9,]+ regions.*domain +\\[-1,1\\]x\\[-0.5,2\\]"
                  count examples/two_moons.onnx --box -1:1,-0.5:2)
relutope_cli_script(count.box_spellings_give_the_default_count "same count: [0-9,]+ regions" [[
a=$("$RELUTOPE" count examples/two_moons.onnx | head -n 1)
b=$("$RELUTOPE" count examples/two_moons.onnx --box -1:1 | head -n 1)
c=$("$RELUTOPE" count examples/two_moons.onnx --box=-1:1 | head -n 1)
echo "no --box: '$a', --box -1:1: '$b', --box=-1:1: '$c'"
if [ -n "$a" ] && [ "$a" = "$b" ] && [ "$a" = "$c" ]
then
  echo "same count: $a"
fi
]])
relutope_cli_test(count.one_thread "^4 regions.*1 thread," count ${relutope_cli_data}/tiny_2d.json --threads 1)
relutope_cli_test(count.two_threads "^4 regions" count ${relutope_cli_data}/tiny_2d.json --threads 2)
relutope_cli_test(count.lp_engine "^4 regions.*engine +lp" count ${relutope_cli_data}/tiny_2d.json --engine lp)
relutope_cli_test(count.vertex_engine "^4 regions.*engine +vertex" count ${relutope_cli_data}/tiny_2d.json --engine vertex)
relutope_cli_test(count.lp_engine_on_one_layer_1d "^4 regions" count ${relutope_cli_data}/one_layer_1d.json --engine lp)

relutope_cli_test(count.json_has_the_count [[^{.*"regions":4,]] count ${relutope_cli_data}/tiny_2d.json --json)
relutope_cli_script(count.json_has_every_key [=[missing keys: \[\]]=] [[
out=$("$RELUTOPE" count tests/data/tiny_2d.json --json)
echo "$out"
missing=""
for key in model regions input_dim hidden_widths neurons output_dim domain engine threads seconds
do
  printf '%s\n' "$out" | grep -q "\"$key\":" || missing="$missing $key"
done
echo "missing keys: [$missing]"
]])
relutope_cli_test(count.json_reports_the_domain_and_its_source
                  [["input_dim":2,"hidden_widths":\[2\],"neurons":2,.*"domain":{"lo":\[-1\.0,-1\.0\],"hi":\[1\.0,1\.0\],"source":"model"}]]
                  count ${relutope_cli_data}/tiny_2d.json --json)

# ---------------------------------------------------------------------------------------------- help

relutope_cli_test(help.lists_commands_and_examples "Commands:.*count.*bench.*Examples" --help)
relutope_cli_test(help.count_lists_options_and_examples "Usage: relutope count.*--box.*Examples" count --help)
relutope_cli_test(help.bench_lists_options_and_examples "Usage: relutope bench.*Examples" bench --help)
# issue 11: --only takes a comma-separated list; the he* cases are the He-normal shapes of the issue's
# edge-subdivision table (the count pins the seeded draw), each reported with its median and best time.
relutope_cli_test(issue11.bench_only_takes_a_list_and_he_cases [=["network":"5x10x10".*"runs":1.*"regions_per_second".*
.*"network":"he5x10x10","engine":"vertex","threads":1,"regions":12814,"seconds":[0-9.e-]+,"best_seconds"]=]
                  bench --only he5x10x10,5x10x10 --repeat 1 --json --threads 1)
relutope_cli_expect(issue11.bench_names_an_unknown_case 1 [[no case named "5x10x1"]] bench --only 5x10x1 --repeat 1)
relutope_cli_test(version.from_generated_header "^relutope ${PROJECT_VERSION}\n" --version)
relutope_cli_expect(usage.no_command_prints_help 1 "Usage: relutope COMMAND")

# ---------------------------------------------------------------------------------------------- bad model files: exit 2

relutope_cli_expect(bad.truncated_onnx 2 "relutope: error: ${relutope_cli_bad}/truncated.onnx: not a valid ONNX model"
                    count ${relutope_cli_bad}/truncated.onnx)
relutope_cli_expect(bad.not_onnx 2 "relutope: error: ${relutope_cli_bad}/not_onnx.onnx: not a valid ONNX model"
                    count ${relutope_cli_bad}/not_onnx.onnx)
relutope_cli_expect(bad.sigmoid_onnx 2 [[sigmoid\.onnx: node "/1/Sigmoid" \(Sigmoid\): op type Sigmoid is not piecewise linear]]
                    count ${relutope_cli_bad}/sigmoid.onnx)
relutope_cli_expect(bad.unsupported_op_onnx 2 [[unsupported_abs\.onnx: node "/Abs" \(Abs\): op type Abs is not supported \(supported: Gemm, MatMul]]
                    count ${relutope_cli_data}/graph/bad/unsupported_abs.onnx)
relutope_cli_expect(bad.dynamic_height_onnx 2 [[dynamic_height\.onnx: input "input": dimension 2 \("height"\) has no fixed size]]
                    count ${relutope_cli_data}/graph/bad/dynamic_height.onnx)
relutope_cli_expect(bad.maxpool_ceil_mode_onnx 2 [[maxpool_ceil_mode\.onnx: node "/1/MaxPool" \(MaxPool\): ceil_mode=1 is not supported]]
                    count ${relutope_cli_data}/graph/bad/maxpool_ceil_mode.onnx)
relutope_cli_expect(bad.conv_weight_input_onnx 2 [[conv_weight_input\.onnx: node "/Conv" \(Conv\): weight "weight" is a graph input]]
                    count ${relutope_cli_data}/graph/bad/conv_weight_input.onnx)
relutope_cli_expect(bad.fold_budget_onnx 2 [[fold_chain\.onnx: node "add_[0-9]" \(Add\): folding the constants would take more than 4,194,304 values in this file]]
                    count ${relutope_cli_data}/graph/bad/fold_chain.onnx)
relutope_cli_expect(bad.graph_values_budget_onnx 2 [[graph_values\.onnx: node "relu_[0-9]+" \(Relu\): the tensors of the graph would have more than 67,108,864 values in this file]]
                    count ${relutope_cli_data}/graph/bad/graph_values.onnx)
relutope_cli_expect(bad.index_map_budget_onnx 2 [[index_map_entries\.onnx: node "expand_big" \(Expand\): the index maps \(Expand, Transpose, Slice, Concat, Pad, Split\) would have more than 4,194,304 values in this file]]
                    count ${relutope_cli_data}/graph/bad/index_map_entries.onnx)
relutope_cli_expect(bad.constant_of_shape_budget_onnx 2 [[constant_of_shape\.onnx: node "fill" \(ConstantOfShape\): folding the constants would take more than 4,194,304 values in this file]]
                    count ${relutope_cli_data}/graph/bad/constant_of_shape.onnx)
# Those two are refused before their 16 million entries are built (they took 404 MB and 142 MB, and 3 s
# in the fuzz build): under 100 MB. Not under the sanitizers, whose shadow memory counts too.
if(NOT RELUTOPE_SANITIZE AND EXISTS /usr/bin/time)
  relutope_cli_script(bad.budget_refusals_are_cheap
                      "index_map_entries peak=[0-9]?[0-9]?[0-9]?[0-9]?[0-9] kB.*constant_of_shape peak=[0-9]?[0-9]?[0-9]?[0-9]?[0-9] kB"
                      [[for f in index_map_entries constant_of_shape
do
  /usr/bin/time -f "$f peak=%M kB" "$RELUTOPE" count tests/data/graph/bad/$f.onnx 2>&1 | tail -1
done]])
endif()
relutope_cli_expect(bad.dense_layers_too_large 2 [[too_large_for_dense\.onnx: too large for dense layers \(about .* MB, more than 512 MB\): count it along a segment with --points FILE --line i,j]]
                    count ${relutope_cli_data}/graph/bad/too_large_for_dense.onnx)
relutope_cli_expect(bad.nan_weight_onnx 2 [[nan_weight\.onnx: tensor "2\.weight": .*NaN]]
                    count ${relutope_cli_bad}/nan_weight.onnx)
relutope_cli_expect(bad.inf_bias_onnx 2 [[inf_bias\.onnx: tensor "2\.bias": .*infinite]]
                    count ${relutope_cli_bad}/inf_bias.onnx)
relutope_cli_expect(bad.weight_shape_json 2 [[weight_shape\.json: invalid network:.*layers\[1\]\.weight: expected 2x3]]
                    count ${relutope_cli_bad}/weight_shape.json)
relutope_cli_expect(bad.bias_length_json 2 [[bias_length\.json: invalid network:.*layers\[1\]\.bias: expected 2 entries, got 3]]
                    count ${relutope_cli_bad}/bias_length.json)
relutope_cli_expect(bad.inf_weight_json 2 [[inf_weight\.json:14: .*1e999]]
                    count ${relutope_cli_bad}/inf_weight.json)
relutope_cli_expect(bad.string_weight_json 2 [[string_weight\.json: invalid model:.*layers\[1\]\.weight\[0\]\[1\]: expected a number, got "abc"]]
                    count ${relutope_cli_bad}/string_weight.json)
relutope_cli_expect(bad.unknown_activation_json 2 [[unknown_activation\.json: .*layers\[0\]\.activation: "sigmoid" is not piecewise linear]]
                    count ${relutope_cli_bad}/unknown_activation.json)
relutope_cli_expect(bad.truncated_json 2 [[truncated\.json:15: not valid JSON]]
                    count ${relutope_cli_bad}/truncated.json)
relutope_cli_expect(bad.no_layers_json 2 [[no_layers\.json: .*layers: expected at least one layer]]
                    count ${relutope_cli_bad}/no_layers.json)
relutope_cli_expect(bad.missing_activation_json 2 [[missing_activation\.json: invalid model:.*layers\[0\]: missing key "activation"]]
                    count ${relutope_cli_bad}/missing_activation.json)
relutope_cli_expect(bad.slope_key_json 2 [[slope_key\.json: invalid model:.*layers\[1\]: unknown key "slope" \(did you mean "negative_slope"\?\)]]
                    count ${relutope_cli_bad}/slope_key.json)
# Issue 9: graph models. The plane and line counts are checked against sampling in tests/graph_test.cpp.
set(relutope_cli_graph ${relutope_cli_data}/graph)
relutope_cli_test(graph.cnn_plane_through_three_inputs "^2,331 regions"
                  count ${relutope_cli_graph}/small_cnn_opset13.onnx --points ${relutope_cli_graph}/small_cnn_opset13.points.csv --plane 0,1,2)
relutope_cli_test(graph.cnn_segment_between_two_inputs "^72 regions"
                  count ${relutope_cli_graph}/small_cnn_opset13.onnx --points ${relutope_cli_graph}/small_cnn_opset13.points.csv --line 0,1)
relutope_cli_test(graph.softmax_head_is_named_in_one_line
                  "^13 regions\n.*  head       Softmax after the output, left out: these are the regions of the piecewise-linear body before it\n"
                  count ${relutope_cli_graph}/softmax_head_opset13.onnx --box -2:2)
relutope_cli_test(graph.softmax_head_in_json [["output_dim":3,"output_head":"Softmax"]]
                  count ${relutope_cli_graph}/softmax_head_opset13.onnx --box -2:2 --json)
relutope_cli_test(graph.no_head_is_null_in_json [["output_head":null]] count ${relutope_cli_data}/tiny_2d.json --json)
relutope_cli_test(onnx.external_data_beside_the_model "^261 regions" count ${relutope_cli_data}/external/mlp_external.onnx)
relutope_cli_expect(bad.external_data_missing 2 [[external_missing\.onnx: tensor "0\.weight": external data file "external_missing\.onnx\.data" not found]]
                    count ${relutope_cli_bad}/external_missing.onnx)
relutope_cli_expect(bad.dropout_training_mode 2 [[dropout_training_opset17\.onnx: node "/2/Dropout" \(Dropout\): Dropout in training mode.*model\.eval\(\)]]
                    count ${relutope_cli_bad}/dropout_training_opset17.onnx)
relutope_cli_expect(bad.huge_input_is_not_an_internal_error 2 [[huge_input\.onnx: node "/0/Gemm" \(Gemm\): weight "0\.weight": expected 200000 inputs]]
                    count ${relutope_cli_bad}/huge_input.onnx)
relutope_cli_expect(bad.points_empty_csv_field 2 [[points_empty_field\.csv:1: field 1 is empty]]
                    count ${relutope_cli_data}/tiny_2d.json --points ${relutope_cli_bad}/points_empty_field.csv --line 0,1)
relutope_cli_expect(bad.points_huge_npy_shape 2 [[points_huge_shape\.npy: shape \(1000000000000, 1000000000000\)]]
                    count ${relutope_cli_data}/tiny_2d.json --points ${relutope_cli_bad}/points_huge_shape.npy --line 0,1)
relutope_cli_expect(bad.domain_unknown_key 2 [[domain_unknown_key\.json: invalid domain:.*unknown key "B" \(did you mean "b"\?\)]]
                    count ${relutope_cli_data}/tiny_2d.json --domain ${relutope_cli_bad}/domain_unknown_key.json)
relutope_cli_expect(bad.missing_file 2 [[no_such_model\.onnx: cannot open]]
                    count ${relutope_cli_data}/no_such_model.onnx)
relutope_cli_expect(bad.unknown_extension 2 [[README\.md: unknown model format]]
                    count ${relutope_cli_data}/README.md)

# ---------------------------------------------------------------------------------------------- bad options

relutope_cli_expect(bad.empty_box 2 [[--box: "1:0": .*dimension 0: lo 1 > hi 0]]
                    count ${relutope_cli_data}/tiny_2d.json --box 1:0)
relutope_cli_expect(bad.box_with_too_many_intervals 2 [[--box: "-1:1,0:1,2:3": expected 1 or 2 intervals]]
                    count ${relutope_cli_data}/tiny_2d.json --box -1:1,0:1,2:3)
relutope_cli_expect(bad.malformed_box 2 [[--box: "abc": expected lo:hi]]
                    count ${relutope_cli_data}/tiny_2d.json --box abc)
relutope_cli_expect(bad.box_with_a_word 2 [[--box: "-1:x": hi is not a number: "x"]]
                    count ${relutope_cli_data}/tiny_2d.json --box=-1:x)
relutope_cli_expect(bad.unknown_engine 2 [[--engine: expected auto, vertex, lp or exact, got "foo"]]
                    count ${relutope_cli_data}/tiny_2d.json --engine foo)
relutope_cli_expect(bad.negative_threads 2 "threads: expected 0"
                    count ${relutope_cli_data}/tiny_2d.json --threads -1)
relutope_cli_expect(usage.unknown_option 1 "unrecognised option '--frobnicate'"
                    count ${relutope_cli_data}/tiny_2d.json --frobnicate)
relutope_cli_expect(usage.box_without_value 1 "'--box' is missing"
                    count ${relutope_cli_data}/tiny_2d.json --box)
relutope_cli_expect(usage.count_without_model 1 "relutope: .*([Mm]odel|MODEL)"
                    count)
relutope_cli_expect(usage.unknown_command 1 [[unknown command "frobnicate"]]
                    frobnicate)

# ---------------------------------------------------------------------------------------------- bounds, neurons

relutope_cli_test(bounds.arch_table "10648 .*Montufar 2017.*5632 .*Serra et al. 2018, Thm 6" bounds --arch 2,6,6,6)
relutope_cli_test(bounds.arch_json [["id":"serra2018_upper".*"value":"2449868"]] bounds --arch 784,11,11 --json)
relutope_cli_test(bounds.validity_shown [[n/a.*needs every width n_l >= 3 n0 = 6]] bounds --arch 2,4,4)
relutope_cli_test(bounds.model_has_rank_and_weight_aware_rows [["serra2018_upper_rank","name".*"applies":true.*"weight_aware_upper".*"applies":true]]
                  bounds tests/data/tiny_2d.json --json)
relutope_cli_expect(bounds.needs_model_or_arch 1 "either MODEL or --arch" bounds)
relutope_cli_expect(bounds.bad_arch 2 "--arch.*entry 1" bounds --arch 2,x)
relutope_cli_test(count.reports_its_upper_bound [["upper_bound":\{"id":"[a-z0-9_]+".*"fraction_of_upper_bound"]]
                  count tests/data/tiny_2d.json --json)
relutope_cli_test(neurons.table "switching.*layer +width +dead" neurons tests/data/tiny_2d.json --samples 1000)
relutope_cli_test(neurons.json_dead_neuron [["state":"dead"]] neurons tests/data/dead_neuron.json --json --samples 1000)
# A Hardtanh is one 3-state unit, not two rows (issue 9).
relutope_cli_test(neurons.clip_is_one_unit_of_three_states
                  [=[{"layer":0,"unit":3,"kind":"clip","state":"switching","regions_in_state":\[4,14,1\]]=]
                  neurons tests/data/graph/hardtanh_mlp.onnx --json)
relutope_cli_test(neurons.clip_states_in_the_table "u3 +switching[^u]+state at lo +4 [^u]+state between +14 [^u]+state at hi +1 "
                  neurons tests/data/graph/hardtanh_mlp.onnx)

# ---------------------------------------------------------------------------------------------- export, stats

relutope_cli_script(export.jsonl_streams_one_line_per_region "^4 4\n" [[
$RELUTOPE export tests/data/tiny_2d.json --jsonl - --fields id,pattern,volume -q > "${TMPDIR:-/tmp}/relutope_cli_export.jsonl"
echo "$(wc -l < "${TMPDIR:-/tmp}/relutope_cli_export.jsonl") $(grep -c '"volume":1' "${TMPDIR:-/tmp}/relutope_cli_export.jsonl")"
]])
relutope_cli_script(export.png_and_svg_are_images "PNG.*<svg" [[
$RELUTOPE export examples/two_moons.onnx --png "${TMPDIR:-/tmp}/relutope_cli.png" --svg "${TMPDIR:-/tmp}/relutope_cli.svg" --color class -q
head -c 4 "${TMPDIR:-/tmp}/relutope_cli.png"
head -c 200 "${TMPDIR:-/tmp}/relutope_cli.svg"
]])
relutope_cli_script(export.class_names_label_the_legend "moon A \\(output ≤ 0\\).*moon B \\(output &gt; 0\\)" [[
$RELUTOPE export examples/two_moons.onnx --svg "${TMPDIR:-/tmp}/relutope_cli_names.svg" --color class --class-names "moon A,moon B" -q
grep -o '>moon [AB][^<]*<' "${TMPDIR:-/tmp}/relutope_cli_names.svg"
]])
relutope_cli_expect(export.class_names_must_match_the_classes 2 "class names: 3 given, but examples/two_moons.onnx has 2 classes"
                    export examples/two_moons.onnx --svg x.svg --color class --class-names a,b,c)
relutope_cli_expect(export.class_names_need_color_class 2 "--class-names: only with --color class"
                    export examples/two_moons.onnx --svg x.svg --class-names a,b)
relutope_cli_expect(export.svg_needs_two_inputs 2 "drawing needs a 2-input network" export tests/data/one_layer_1d.json --svg x.svg)
relutope_cli_expect(export.needs_an_output 1 "nothing to write" export tests/data/tiny_2d.json)
relutope_cli_expect(export.unknown_field 2 "unknown field \"colour\"" export tests/data/tiny_2d.json --jsonl - --fields colour)
relutope_cli_test(stats.coverage_is_complete "coverage +1\\.000000000000.*volume" stats examples/two_moons.onnx)
relutope_cli_test(stats.json_histograms [["regions":4,"coverage":1(\.0)?,"coverage_cgal":1(\.0)?,"volume":\{"min":1(\.0)?,.*"histogram"]] stats tests/data/tiny_2d.json --json)
relutope_cli_test(count.exact_is_certified [["regions":4.*"certified":true,"float_regions":4,"float_missed":0,"float_invented":0]]
                  count tests/data/tiny_2d.json --exact --json)

# ---------------------------------------------------------------------------------------------- slices, study

relutope_cli_test(slice.plane_through_digits [["regions":[0-9]+,"complete":true,"stopped":null,"input_dim":2.*"source":"plane".*"slice":\{"description":"the plane through rows 0,5,17]]
                  count examples/digits_64_10_10.onnx --points examples/digits_test.csv --plane 0,5,17 --json)
relutope_cli_test(slice.line_reports_breakpoints [=["regions":([0-9]+).*"breakpoints":\[[0-9.e,-]+\]]=]
                  count examples/digits_64_10_10.onnx --points examples/digits_test.npy --line 0,5 --json)
relutope_cli_expect(slice.needs_points 2 "give --points" count examples/digits_64_10_10.onnx --plane 0,1,2)
relutope_cli_expect(slice.row_out_of_range 2 [[--plane: row 99 is not a row of examples/digits_test.csv \(0 to 19\)]]
                    count examples/digits_64_10_10.onnx --points examples/digits_test.csv --plane 0,1,99)
relutope_cli_expect(slice.wrong_point_dimension 2 "--line: examples/digits_test.csv has 64 coordinates per row but examples/two_moons.onnx has 2 inputs" count examples/two_moons.onnx
                    --points examples/digits_test.csv --line 0,1)
relutope_cli_expect(slice.one_domain_only 2 "give only one of" count tests/data/tiny_2d.json --box -1:1 --domain x.json)
relutope_cli_script(study.writes_csv_and_plots "rows=7 cols=17.*PNG.*<svg" [[
out="${TMPDIR:-/tmp}/relutope_cli_study"
rm -rf "$out"
$RELUTOPE study --input-dim 2 --neurons 12 --depths 1,2,3 --seeds 2 --out "$out" -q || echo failed
echo "rows=$(wc -l < "$out/study.csv") cols=$(head -1 "$out/study.csv" | tr ',' '\n' | wc -l)"
head -c 4 "$out/regions.png"
head -c 300 "$out/regions.svg"
]])
relutope_cli_expect(study.needs_one_sweep 1 "exactly one of" study --depths 1,2 --widths 3)
relutope_cli_expect(study.depths_need_neurons 1 "--depths needs --neurons" study --depths 1,2)
relutope_cli_script(study.over_checkpoints "rows=3.*model,tests/data/tiny_2d.json.*,4,.*model,tests/data/dead_neuron.json.*,4," [[
out="${TMPDIR:-/tmp}/relutope_cli_study_models"
rm -rf "$out"
$RELUTOPE study --models tests/data/tiny_2d.json tests/data/dead_neuron.json --out "$out" -q || echo failed
echo "rows=$(wc -l < "$out/study.csv")"
cat "$out/study.csv"
]])
relutope_cli_test(count.affine_network_is_one_region "^1 region\n" count tests/data/affine.json)
relutope_cli_script(export.jsonl_is_the_same_for_any_thread_count "^same\n" [[
out="${TMPDIR:-/tmp}/relutope_cli_threads"
$RELUTOPE export examples/two_moons.onnx --jsonl "$out.1" --threads 1 -q
$RELUTOPE export examples/two_moons.onnx --jsonl "$out.2" --threads 2 -q
$RELUTOPE export examples/two_moons.onnx --jsonl "$out.3" --threads 3 --png "$out.png" -q
cmp -s "$out.1" "$out.2" && cmp -s "$out.1" "$out.3" && echo same
]])

# ---------------------------------------------------------------------------------- issue 8: numerics

# A thread count the OpenMP runtime cannot create crashed in libgomp; it is refused instead.
relutope_cli_expect(issue8.threads_beyond_the_cap_are_refused 2 "threads: expected 0 .all cores. or a number from 1 to 1024, got 100000"
                    count tests/data/tiny_2d.json --threads 100000)

# A 2-8-8-1 net (tests/data/issue8_2x8x8x1.json) has 159 regions in every box from +-1e3 outwards
# (count --engine exact agrees). The float engines used to print 29-45 from +-1e9 on, 1 from
# +-1e154 on, and the LP engine ran for more than ten minutes at +-1e15.
foreach(size 1e9 1e15 1e100 1e200)
  foreach(engine vertex lp exact)  # exact: past 2^900 its vertices' roundings leave the sign filter's range
    relutope_cli_test(issue8.box_${size}_${engine}_gives_the_exact_count "^159 regions"
                      count tests/data/issue8_2x8x8x1.json --box=-${size}:${size} --engine ${engine} --quiet)
  endforeach()
endforeach()

# tests/data/cancelling_row.json: relu(-h_1 - 2^-60 h_2 + h_3 + 2^-60 h_4) over four ReLUs active on
# [-1,1]^2 is exactly relu(2^-60 (x_1 - x_0)), 2 regions; its row cancels in doubles to a constant of the
# order of its rounding error, and both float engines printed 1 region.
foreach(engine vertex lp)
  relutope_cli_test(trust.cancelling_row_${engine}_gives_the_exact_count "^2 regions"
                    count tests/data/cancelling_row.json --box=-1:1 --engine ${engine} --quiet)
endforeach()

# ---------------------------------------------------------------------------------- issue 10: one set of enumeration options

# Every command that enumerates takes --threads, --engine, --tolerance and --quiet, declared once
# (add_enumeration_options). --tolerance used to exist for count only; the others silently used 1e-9.
set(relutope_enumerating_commands
    "count examples/two_moons.onnx --json"
    "export examples/two_moons.onnx --jsonl -"
    "neurons examples/two_moons.onnx --json --samples 100"
    "stats examples/two_moons.onnx --json"
    "study --models examples/two_moons.onnx --out ${CMAKE_CURRENT_BINARY_DIR}/issue10_study"
    "bench --only 5x10x10 --repeat 1 --json")
foreach(command IN LISTS relutope_enumerating_commands)
  separate_arguments(args UNIX_COMMAND "${command}")
  list(GET args 0 name)
  relutope_cli_expect(issue10.${name}_takes_the_enumeration_options 0 ""
                      ${args} --threads 1 --engine vertex --tolerance 1e-6 --quiet)
  # The value reaches the library, which refuses it (not the command line parser, which would exit 1).
  relutope_cli_expect(issue10.${name}_passes_tolerance_to_the_library 2 "relutope: error: tolerance: expected a positive number, got 0"
                      ${args} --tolerance 0)
  relutope_cli_expect(issue10.${name}_names_a_bad_engine 2 [[--engine: expected auto, vertex, lp or exact, got "fast"]]
                      ${args} --engine fast)
endforeach()
# The tolerance reaches the engine: at 1e-3 of the diagonal, cuts near vertices are decided exactly and
# thin regions are reported (none at the default 1e-9).
relutope_cli_test(issue10.count_tolerance_reaches_the_engine [=["regions":386,.*"tolerance":0\.001,.*"near_degenerate":[1-9][0-9]*,"exact_decisions":[1-9]]=]
                  count examples/two_moons.onnx --json --tolerance 1e-3)
relutope_cli_test(issue10.neurons_tolerance_reaches_the_engine [=["tolerance":0\.001,"near_degenerate":[1-9][0-9]*,"exact_decisions":[1-9]]=]
                  neurons examples/two_moons.onnx --json --samples 100 --tolerance 1e-3)
relutope_cli_test(issue10.stats_tolerance_reaches_the_engine [=["tolerance":0\.001,"near_degenerate":[1-9][0-9]*,"exact_decisions":[1-9]]=]
                  stats examples/two_moons.onnx --json --tolerance 1e-3)
relutope_cli_test(issue10.export_tolerance_reaches_the_engine "[1-9][0-9]* near-degenerate at tolerance 0\\.001"
                  export examples/two_moons.onnx --jsonl /dev/null --tolerance 1e-3)
relutope_cli_test(issue10.bench_tolerance_reaches_the_engine [=["near_degenerate":[1-9][0-9]*,"exact_decisions":[1-9]]=]
                  bench --only 5x10x10 --repeat 1 --json --tolerance 1e-3)
# Read as CSV: the domain "[-1,1]^2" is quoted (unquoted, its comma shifted every later column).
relutope_cli_script(issue10.study_tolerance_reaches_the_engine "domain=\\[-1,1\\]\\^2 regions=386 near_degenerate=[1-9][0-9]*\n" [[
out="${TMPDIR:-/tmp}/relutope_cli_study_tolerance"
rm -rf "$out"
$RELUTOPE study --models examples/two_moons.onnx --out "$out" --tolerance 1e-3 -q || echo failed
python3 -c 'import csv, sys
row = list(csv.DictReader(open(sys.argv[1])))[-1]
print("domain={domain} regions={regions} near_degenerate={near_degenerate}".format(**row))' "$out/study.csv"
]])
relutope_cli_expect(issue10.stats_needs_the_vertex_engine 2 "engine lp: measuring every region needs the vertex engine"
                    stats examples/two_moons.onnx --engine lp)

# ------------------------------------------------------------------------ along a segment (--engine segment)
set(relutope_cli_segment tests/data/segment)
relutope_cli_test(segment.pool3_pieces [[^217 pieces.*certified +every cut]]
                  count ${relutope_cli_segment}/cnn_pool3.onnx --points ${relutope_cli_segment}/points.npy --line 0,1 --engine segment)
relutope_cli_test(segment.dense_engines_agree [[^217 regions]]
                  count ${relutope_cli_segment}/cnn_pool3.onnx --points ${relutope_cli_segment}/points.npy --line 0,1)
relutope_cli_test(segment.part_json [["regions":61,.*"t_begin":0.25,"t_end":0.5.*"engine":"segment"]]
                  count ${relutope_cli_segment}/cnn_pool3.onnx --points ${relutope_cli_segment}/points.npy --line 0,1
                  --segment 0.25,0.5 --engine segment --json)
# --time-limit stops the walk with the pieces certified so far: a lower bound, marked partial, exit 5.
relutope_cli_expect(segment.time_limit_partial_json 5 [["regions":[0-9]+,"complete":false,"stopped":"time limit".*"t_reached":]]
                    count ${relutope_cli_segment}/cnn_pool3.onnx --points ${relutope_cli_segment}/points.npy --line 0,1
                    --engine segment --time-limit 0.000001 --json)
relutope_cli_expect(segment.time_limit_partial_text 5 [[^at least [0-9]+ pieces? on t = 0 to .*stopped +time limit: the pieces and breaks above]]
                    count ${relutope_cli_segment}/cnn_pool3.onnx --points ${relutope_cli_segment}/points.npy --line 0,1
                    --engine segment --time-limit 0.000001)
relutope_cli_test(segment.time_limit_not_reached [["regions":217,"complete":true,"stopped":null]]
                  count ${relutope_cli_segment}/cnn_pool3.onnx --points ${relutope_cli_segment}/points.npy --line 0,1
                  --engine segment --time-limit 1000 --json)
relutope_cli_test(segment.part_exact_engine [[^61 regions]]
                  count ${relutope_cli_segment}/cnn_pool3.onnx --points ${relutope_cli_segment}/points.npy --line 0,1
                  --segment 0.25,0.5 --engine exact)
relutope_cli_expect(segment.needs_line 2 [[--engine segment: counts along a segment \(--line i,j\) or on a triangle \(--plane i,j,k\) of --points FILE: give them]]
                    count ${relutope_cli_segment}/cnn_pool3.onnx --engine segment)
relutope_cli_expect(segment.needs_line_for_part 2 [[--segment picks part of the --line segment: give --line i,j]]
                    count ${relutope_cli_segment}/cnn_pool3.onnx --segment 0,0.5)
relutope_cli_expect(segment.backwards 2 [[--segment: expected t0 < t1, got "0.5,0.2"]]
                    count ${relutope_cli_segment}/cnn_pool3.onnx --points ${relutope_cli_segment}/points.npy --line 0,1
                    --segment 0.5,0.2 --engine segment)
relutope_cli_expect(segment.not_numbers 2 [[--segment: expected t0,t1 \(two numbers\), got "a,b"]]
                    count ${relutope_cli_segment}/cnn_pool3.onnx --points ${relutope_cli_segment}/points.npy --line 0,1
                    --segment a,b)
relutope_cli_expect(segment.row_out_of_range 2 [[--line: 9 is not a row of tests/data/segment/points.npy \(0 to 7\)]]
                    count ${relutope_cli_segment}/cnn_pool3.onnx --points ${relutope_cli_segment}/points.npy --line 0,9 --engine segment)
relutope_cli_test(segment.one_break_between_neighbours [[^217 regions.*breaks +216 along the segment]]
                  count ${relutope_cli_segment}/cnn_pool3.onnx --points ${relutope_cli_segment}/points.npy --line 0,1)
relutope_cli_test(segment.auto_when_too_large_for_dense [[^[0-9,]+ pieces.*engine +segment walk]]
                  count ${relutope_cli_data}/graph/bad/too_large_for_dense.onnx --points ${relutope_cli_segment}/points_64x64.npy --line 0,1)
# Units exactly at their breakpoints at the two images are decided by their exact slopes (issue 9).
relutope_cli_test(segment.digits_cnn_whole_segment [[^112 pieces]]
                  count examples/digits_cnn.onnx --points examples/digits_test.csv --line 0,5 --engine segment)
relutope_cli_test(segment.digits_cnn_inner_part [[^112 pieces]]
                  count examples/digits_cnn.onnx --points examples/digits_test.csv --line 0,5 --segment 1e-6,0.999999 --engine segment)
relutope_cli_test(segment.digits_cnn_inner_part_vertex [[^112 regions]]
                  count examples/digits_cnn.onnx --points examples/digits_test.csv --line 0,5 --segment 1e-6,0.999999 --engine vertex)
# ------------------------------------------------------------------------- on a plane (--engine segment)
# The plane walk gives the dense engines' counts on the README's triangles (tests/plane_walk_test.cpp
# checks them against the exact reference too).
relutope_cli_test(plane.digits_cnn_triangle [[^7,005 regions.*engine +plane walk.*certified]]
                  count examples/digits_cnn.onnx --points examples/digits_test.csv --plane 0,5,17 --engine segment)
relutope_cli_test(plane.digits_cnn_triangle_vertex [[^7,005 regions]]
                  count examples/digits_cnn.onnx --points examples/digits_test.csv --plane 0,5,17 --engine vertex)
relutope_cli_test(plane.digits_cnn_part_json [["regions":[0-9]+,"complete":true,"stopped":null,"area_done":1(\.0)?,.*"domain":{"kind":"triangle".*"scale":0.125.*"engine":"segment"]]
                  count examples/digits_cnn.onnx --points examples/digits_test.csv --plane 0,1,2 --plane-scale 0.125
                  --engine segment --json)
relutope_cli_expect(plane.time_limit_partial_json 5 [["regions":[0-9]+,"complete":false,"stopped":"time limit","area_done":]]
                    count examples/digits_cnn.onnx --points examples/digits_test.csv --plane 0,5,17 --engine segment
                    --time-limit 0.000001 --json)
relutope_cli_expect(plane.time_limit_partial_text 5 [[^at least [0-9]+ regions? \(stopped: time limit\).*stopped +time limit: the regions above are finished and certified]]
                    count examples/digits_cnn.onnx --points examples/digits_test.csv --plane 0,5,17 --engine segment
                    --time-limit 0.000001)
relutope_cli_expect(plane.scale_needs_the_walk 2 [[--plane-scale with --plane-region triangle: only the plane walk]]
                    count examples/digits_cnn.onnx --points examples/digits_test.csv --plane 0,5,17 --plane-scale 0.5)
relutope_cli_expect(plane.scale_above_one 2 [[--plane-scale: the plane walk counts the part .* expected a number in \(0, 1\], got 2]]
                    count examples/digits_cnn.onnx --points examples/digits_test.csv --plane 0,5,17 --plane-scale 2 --engine segment)
relutope_cli_expect(plane.box_refused 2 [[--plane-region box: the plane walk \(--engine segment\) counts on the triangle]]
                    count examples/digits_cnn.onnx --points examples/digits_test.csv --plane 0,5,17 --plane-region box --engine segment)
relutope_cli_expect(plane.row_out_of_range 2 [[--plane: 30 is not a row of examples/digits_test.csv \(0 to 19\)]]
                    count examples/digits_cnn.onnx --points examples/digits_test.csv --plane 0,5,30 --engine segment)
relutope_cli_expect(plane.collinear 2 [[--plane: plane: the three points are \(nearly\) collinear]]
                    count examples/digits_cnn.onnx --points examples/digits_test.csv --plane 0,5,5 --engine segment)
relutope_cli_test(plane.auto_when_too_large_for_dense [[^[0-9,]+ regions.*engine +plane walk]]
                  count ${relutope_cli_data}/graph/bad/too_large_for_dense.onnx --points ${relutope_cli_segment}/points_64x64.npy
                  --plane 0,1,2 --plane-scale 0.001)
# ------------------------------------------------- export and neurons through the walks (issue 9)
# The dense engines lower the digits CNN to layers and enumerate with the vertex engine: an independent
# truth for the walk's regions (tests/reference/compare_walked_export.py: the same regions in the same
# order, the same full patterns rebuilt from pattern_changes, the same vertices, volumes and maps, the
# same picture).
if(RELUTOPE_SYSTEM_PYTHON)
  relutope_cli_script(walk_export.digits_cnn_plane_matches_dense [[7005 regions compared, 0 disagreements.pictures [0-9x]+: [0-9]+ pixels differ[^
]*.ok]] "
out=${CMAKE_CURRENT_BINARY_DIR}/walk_export
mkdir -p \"$out\"
\"$RELUTOPE\" export examples/digits_cnn.onnx --points examples/digits_test.csv --plane 0,5,17 --engine segment --threads 2 --jsonl \"$out/plane_walk.jsonl\" --png \"$out/plane_walk.png\" --color class --size 300 -q
\"$RELUTOPE\" export examples/digits_cnn.onnx --points examples/digits_test.csv --plane 0,5,17 --engine vertex --jsonl \"$out/plane_dense.jsonl\" --png \"$out/plane_dense.png\" --color class --size 300 -q
${RELUTOPE_SYSTEM_PYTHON} tests/reference/compare_walked_export.py \"$out/plane_walk.jsonl\" \"$out/plane_dense.jsonl\" \"$out/plane_walk.png\" \"$out/plane_dense.png\"
")
  # Under the sanitizers its two exports of 7,005 regions with pictures took over 120 s on a loaded machine
  # (a fresh CI at load 6); there the line test below and walk_export.one_and_two_threads_byte_identical run
  # the same export code.
  set_property(TEST cli.walk_export.digits_cnn_plane_matches_dense APPEND PROPERTY LABELS release_only)
  relutope_cli_script(walk_export.digits_cnn_line_matches_dense [[112 regions compared, 0 disagreements.ok]] "
out=${CMAKE_CURRENT_BINARY_DIR}/walk_export
mkdir -p \"$out\"
\"$RELUTOPE\" export examples/digits_cnn.onnx --points examples/digits_test.csv --line 0,5 --engine segment --threads 2 --jsonl \"$out/line_walk.jsonl\" -q
\"$RELUTOPE\" export examples/digits_cnn.onnx --points examples/digits_test.csv --line 0,5 --engine vertex --jsonl \"$out/line_dense.jsonl\" -q
${RELUTOPE_SYSTEM_PYTHON} tests/reference/compare_walked_export.py \"$out/line_walk.jsonl\" \"$out/line_dense.jsonl\"
")
  # The neuron report through the walk: the same dead, stably active (or fixed) and switching units per layer
  # as the dense report, and for each switching unit the same region counts and area shares.
  relutope_cli_script(walk_neurons.digits_cnn_plane_matches_dense [[layers 3, switching units 194, disagreements 0]] "
out=${CMAKE_CURRENT_BINARY_DIR}/walk_export
mkdir -p \"$out\"
\"$RELUTOPE\" neurons examples/digits_cnn.onnx --points examples/digits_test.csv --plane 0,5,17 --engine segment --json > \"$out/neurons_walk.json\"
\"$RELUTOPE\" neurons examples/digits_cnn.onnx --points examples/digits_test.csv --plane 0,5,17 --engine vertex --json > \"$out/neurons_dense.json\"
${RELUTOPE_SYSTEM_PYTHON} -c '
import json, sys
w, d = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
bad = int(w[\"regions\"] != d[\"regions\"])
for a, b in zip(w[\"layers\"], d[\"layers\"]):
    bad += (a[\"width\"], a[\"dead\"], a[\"stably_active\"]) != (b[\"width\"], b[\"dead\"], b[\"stably_active\"])
dense = {(n[\"layer\"], n.get(\"neuron\", n.get(\"unit\"))): n for n in d[\"neurons\"] if n[\"state\"] == \"switching\"}
bad += len(dense) != len(w[\"neurons\"])
for n in w[\"neurons\"]:
    e = dense.get((n[\"layer\"], n.get(\"neuron\", n.get(\"unit\"))))
    if e is None: bad += 1
    elif \"regions_active\" in n: bad += n[\"regions_active\"] != e[\"regions_active\"] or abs(n[\"volume_fraction_active\"] - e[\"volume_fraction_active\"]) > 1e-9
    else: bad += n[\"regions_in_state\"] != e[\"regions_in_state\"][:len(n[\"regions_in_state\"])] or max(abs(x - y) for x, y in zip(n[\"volume_fraction_in_state\"], e[\"volume_fraction_in_state\"])) > 1e-9
print(\"layers %d, switching units %d, disagreements %d\" % (len(w[\"layers\"]), len(w[\"neurons\"]), bad))
' \"$out/neurons_walk.json\" \"$out/neurons_dense.json\"
")
endif()
# One and two threads write the same file.
relutope_cli_script(walk_export.one_and_two_threads_byte_identical [[same]] "
out=${CMAKE_CURRENT_BINARY_DIR}/walk_export
mkdir -p \"$out\"
\"$RELUTOPE\" export examples/digits_cnn.onnx --points examples/digits_test.csv --plane 0,1,2 --engine segment --threads 1 --jsonl \"$out/t1.jsonl\" -q
\"$RELUTOPE\" export examples/digits_cnn.onnx --points examples/digits_test.csv --plane 0,1,2 --engine segment --threads 2 --jsonl \"$out/t2.jsonl\" -q
cmp -s \"$out/t1.jsonl\" \"$out/t2.jsonl\" && echo same
")
relutope_cli_expect(walk_export.time_limit_partial 5 [["regions":[0-9]+,"complete":false,"stopped":"time limit","area_done":.*"engine":"segment"]]
                    export examples/digits_cnn.onnx --points examples/digits_test.csv --plane 0,5,17 --engine segment
                    --time-limit 0.000001 --json --jsonl /dev/null)
relutope_cli_test(walk_export.line_json [["regions":112,"complete":true,"stopped":null,"length_done":1(\.0)?,"domain":{"kind":"segment".*"engine":"segment".*"files":{"jsonl":"/dev/null"},"pattern_entries":384]]
                  export examples/digits_cnn.onnx --points examples/digits_test.csv --line 0,5 --engine segment --json --jsonl /dev/null)
relutope_cli_test(walk_export.summary_line [[relutope export: 3,858 regions of examples/digits_cnn.onnx in the triangle through rows 0, 1, 2 .*engine segment: the plane walk]]
                  export examples/digits_cnn.onnx --points examples/digits_test.csv --plane 0,1,2 --engine segment --jsonl /dev/null)
relutope_cli_expect(walk_export.no_picture_of_a_segment 2 [[--svg/--png: drawing needs a plane \(--plane i,j,k\)]]
                    export examples/digits_cnn.onnx --points examples/digits_test.csv --line 0,5 --engine segment --png x.png)
relutope_cli_expect(walk_export.no_mesh 2 [[--off/--ply/--obj: cells need a 3-input network]]
                    export examples/digits_cnn.onnx --points examples/digits_test.csv --plane 0,5,17 --engine segment --off x.off)
relutope_cli_expect(walk_export.unknown_field 2 [[unknown field "halfspaces" for regions found by the walk through the graph \(it writes: id, pattern, pattern_changes]]
                    export examples/digits_cnn.onnx --points examples/digits_test.csv --plane 0,5,17 --engine segment --jsonl /dev/null
                    --fields id,halfspaces)
relutope_cli_expect(walk_export.no_checkpoint 2 [[--max-regions, --checkpoint and --resume: the walk through the graph]]
                    export examples/digits_cnn.onnx --points examples/digits_test.csv --plane 0,5,17 --engine segment --jsonl /dev/null
                    --max-regions 5)
relutope_cli_test(walk_export.auto_when_too_large_for_dense [[relutope export: [0-9,]+ regions of .*engine segment: the plane walk]]
                  export ${relutope_cli_data}/graph/bad/too_large_for_dense.onnx --points ${relutope_cli_segment}/points_64x64.npy
                  --plane 0,1,2 --plane-scale 0.001 --jsonl /dev/null)
relutope_cli_test(walk_neurons.text [[3,858 regions in the triangle through rows 0, 1, 2.*listed: the [0-9,]+ units whose state changes.*/pool/MaxPool \(MaxPool\)]]
                  neurons examples/digits_cnn.onnx --points examples/digits_test.csv --plane 0,1,2 --engine segment)
relutope_cli_expect(walk_neurons.time_limit_partial 5 [["complete":false,"stopped":"time limit"]]
                    neurons examples/digits_cnn.onnx --points examples/digits_test.csv --plane 0,5,17 --engine segment
                    --time-limit 0.000001 --json)
# The dense engines on the whole segment: the line folded into the first layer in floating point
# moved the exact ties at the two images, and exact arithmetic started from that rounded network
# (115 regions, three of them shorter than 3e-16); it now folds the stored network and the two
# points exactly (Network::exact).
relutope_cli_test(slice.digits_cnn_line_vertex [[^112 regions]]
                  count examples/digits_cnn.onnx --points examples/digits_test.npy --line 0,5 --engine vertex)
relutope_cli_test(slice.digits_cnn_line_lp [[^112 regions]]
                  count examples/digits_cnn.onnx --points examples/digits_test.npy --line 0,5 --engine lp)
relutope_cli_test(slice.digits_cnn_line_exact [[^112 regions.*certified +yes]]
                  count examples/digits_cnn.onnx --points examples/digits_test.npy --line 0,5 --exact)
relutope_cli_test(slice.digits_cnn_line_one_thread [[^112 regions]]
                  count examples/digits_cnn.onnx --points examples/digits_test.npy --line 0,5 --threads 1)
# Found by the onnx_model fuzzer in CI (signed overflow multiplying Reshape's target dims; fixed by
# the range checks of 5f9954d): under the sanitizers this test fails on any "runtime error".
relutope_cli_expect(bad.fuzz_reshape_overflow 2 [[node "/Reshape" \(Reshape\): shape \[-1, 33554433, 8, 576460752303423488\] is too large]]
                    count ${relutope_cli_bad}/fuzz_reshape_overflow.onnx)
# Found by the onnx_model fuzzer in CI: a MatMul with one input read past the node's input list
# (heap-buffer-overflow); every op's required inputs are now counted before any is read.
relutope_cli_expect(bad.fuzz_matmul_one_input 2 [[node "/MatMul" \(MatMul\): expected at least 2 inputs, got 1]]
                    count ${relutope_cli_bad}/fuzz_matmul_one_input.onnx)

# ---------------------------------------------------------------------------------- issue 12: long runs
# long_run_3x24x24x24.json (tests/data/make_long_run_model.py) has 44,372 regions in its domain [-4,4]^3:
# 0.03 s to count, ~1 s to export with --engine lp, so that runs can be stopped and killed part-way.
# Exit code 5: stopped early, the count printed is a lower bound. The runs stopped while --engine exact
# counts use long_run_exact_4x20x20x20.json (215,760 regions, ~7 s on two threads with --engine exact;
# the 3-input net took 6 s until the exact engine became ten times faster, issue 11).
set(relutope_long_run tests/data/long_run_3x24x24x24.json)
set(relutope_long_run_exact tests/data/long_run_exact_4x20x20x20.json)

# relutope_cli_long_run(NAME REGEX SCRIPT): as relutope_cli_script, with $WORK an empty folder of the
# build tree for the test's files.
function(relutope_cli_long_run name regex script)
  set(work ${CMAKE_CURRENT_BINARY_DIR}/long_run/${name})
  add_test(NAME cli.${name}
           COMMAND sh -c "RELUTOPE=\"$0\"\nWORK=\"$1\"\nrm -rf \"$WORK\"\nmkdir -p \"$WORK\"\n${script}"
                   $<TARGET_FILE:relutope_cli> ${work}
           WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
  set_tests_properties(cli.${name} PROPERTIES PASS_REGULAR_EXPRESSION "${regex}" TIMEOUT 120)
endfunction()

relutope_cli_expect(long_run.time_limit_prints_a_lower_bound 5
                    "^at least [0-9,]+ regions \\(stopped: time limit\\).*stopped +time limit: the count is a lower bound"
                    count ${relutope_long_run_exact} --engine exact --time-limit 0.3 -q)  # -q: no look-ahead warning before it
relutope_cli_expect(long_run.max_regions_json_says_incomplete 5 [["regions":[0-9]+,"complete":false,"stopped":"region limit"]]
                    count ${relutope_long_run} --max-regions 1000 --json)
relutope_cli_test(long_run.max_regions_at_the_count_is_complete [["regions":44372,"complete":true,"stopped":null]]
                  count ${relutope_long_run} --max-regions 44372 --threads 1 --json)
relutope_cli_expect(long_run.max_regions_one_below_the_count 5 "^at least 44,371 regions \\(stopped: region limit\\)"
                    count ${relutope_long_run} --max-regions 44371 --threads 1 -q)
relutope_cli_expect(long_run.negative_time_limit 2 "--time-limit: expected a number of seconds >= 0, got -1"
                    count ${relutope_long_run} --time-limit -1)
# Regression: Program_options read -5 into the unsigned limit as 2^64 - 5 and ran without a limit.
relutope_cli_expect(long_run.negative_max_regions 2 "--max-regions: expected a number of regions >= 0 \\(0 = no limit\\), got -5"
                    count ${relutope_long_run} --max-regions -5)
relutope_cli_expect(long_run.segment_walk_takes_no_region_limit 2 "--max-regions, --checkpoint and --resume: the segment walk"
                    count ${relutope_long_run} --engine segment --max-regions 10)

# SIGINT and SIGTERM: the workers stop within a second, the partial count is printed, exit 5. The test
# allows 3 s: with the sanitizers and other tests on the 2 cores, 1 s was exceeded once (load 4.6).
foreach(signal INT TERM)
  relutope_cli_long_run(long_run.sig${signal}_prints_a_lower_bound_promptly
                        "at least [0-9,]+ regions \\(stopped: SIG${signal}\\).*exit=5.*promptly" "
\"$RELUTOPE\" count ${relutope_long_run_exact} --engine exact --threads 2 > \"$WORK/out\" 2>&1 &
pid=$!
sleep 1
sent=$(date +%s%N)
kill -${signal} $pid
wait $pid
code=$?
ms=$(( ($(date +%s%N) - sent) / 1000000 ))
cat \"$WORK/out\"
echo exit=$code after $ms ms
if [ $ms -lt 3000 ]
then
  echo promptly
fi
")
endforeach()

# export: a stopped run's JSONL is the first regions of the full run's, in order. The 5,854-region net cut into
# 64 tasks on 2 threads keeps the LP engine's export short under the sanitizers (the 44,372-region one took
# 37 s of CPU there and timed out at a load of 7).
relutope_cli_long_run(long_run.export_max_regions_writes_the_first_regions "exit=5 lines=100 same as the full run's first" [[
"$RELUTOPE" export tests/data/mpi_4x12x12.json --engine lp --threads 2 --tasks 64 --fields id,pattern --jsonl "$WORK/all.jsonl" -q
"$RELUTOPE" export tests/data/mpi_4x12x12.json --engine lp --threads 2 --tasks 64 --fields id,pattern --jsonl "$WORK/part.jsonl" --max-regions 100 -q
code=$?
head -n 100 "$WORK/all.jsonl" > "$WORK/head.jsonl"
cmp "$WORK/part.jsonl" "$WORK/head.jsonl" && same="same as the full run's first"
echo exit=$code lines=$(wc -l < "$WORK/part.jsonl") $same
]])

# Progress: a line every 10 s (here RELUTOPE_PROGRESS_SECONDS=0.5) on stderr when it is not a terminal;
# none with --quiet.
relutope_cli_long_run(long_run.progress_lines_in_a_log "relutope: [0-9,]+ regions so far, [0-9]+ regions/s, [0-9]+ s.*quiet: 0 lines.*RELUTOPE_PROGRESS_SECONDS: expected a positive number of seconds, got \"0\".*exit=2" [[
RELUTOPE_PROGRESS_SECONDS=0.5 "$RELUTOPE" count tests/data/long_run_exact_4x20x20x20.json --engine exact --threads 1 --time-limit 2 2>&1 >/dev/null | grep "regions so far"
echo "quiet: $(RELUTOPE_PROGRESS_SECONDS=0.5 "$RELUTOPE" count tests/data/long_run_exact_4x20x20x20.json --engine exact --threads 1 --time-limit 2 -q 2>&1 >/dev/null | wc -l) lines"
RELUTOPE_PROGRESS_SECONDS=0 "$RELUTOPE" count tests/data/tiny_2d.json
echo exit=$?
]])
# Found by a 40-minute onnx_model fuzz run: Split sizes near 2^63 overflowed their sum (undefined
# behaviour) before the check against the axis; each size is now checked against what is left of it.
relutope_cli_expect(bad.fuzz_split_overflow 2 [[node "/Split" \(Split\): split sizes \[2, 7061644215716937728, 7956011637422567424, 2, 2\] do not divide axis 1]]
                    count ${relutope_cli_bad}/fuzz_split_overflow.onnx)

# Checkpoints: an interrupted run, resumed with another thread count, equals the uninterrupted run (the
# same count and statistics; the same JSON lines, byte for byte), after kill -9, SIGINT, SIGTERM, a time
# limit or a region limit; each of the last four prints a lower bound and leaves a loadable checkpoint.
foreach(kind count export)
  foreach(how kill9 INT TERM time regions)
    if(how STREQUAL "kill9")
      set(expected "still running after the first checkpoint: ok.*interrupted: exit 137")
    else()
      set(expected "interrupted: exit 5.*lower bound: ok")
    endif()
    # Under the sanitizers each of these took 80-130 s on the 44,372-region network (LP engine at -O1):
    # kill -9 stays there, on a 10,309-region one (~4 s a run on one thread, long enough to be killed
    # after a checkpoint); the other ways to stop share its resume path and LongRuns.* covers it there.
    set(model)
    if(RELUTOPE_SANITIZE AND how STREQUAL "kill9")
      set(model tests/data/long_run_3x16x16x16.json)
    endif()
    add_test(NAME cli.long_run.${kind}_${how}_then_resume_equals_the_uninterrupted_run
             COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/long_run/interrupt_and_resume.sh $<TARGET_FILE:relutope_cli>
                     ${CMAKE_CURRENT_BINARY_DIR}/long_run/${kind}_${how} ${kind} ${how} ${model}
             WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
    set_tests_properties(cli.long_run.${kind}_${how}_then_resume_equals_the_uninterrupted_run PROPERTIES
                         PASS_REGULAR_EXPRESSION "${expected}.*resumed: exit 0.*same [^\n]* as the uninterrupted run: ok"
                         TIMEOUT 120)
    if(NOT how STREQUAL "kill9")
      set_property(TEST cli.long_run.${kind}_${how}_then_resume_equals_the_uninterrupted_run PROPERTY LABELS release_only)
    endif()
  endforeach()
endforeach()

# MPI (RELUTOPE_WITH_MPI): mpirun -np 1, 2 and 3 give the count, statistics and JSON lines of one process,
# on seeded networks (tests/data/make_mpi_models.py), one of which has a task holding most of its regions.
if(RELUTOPE_WITH_MPI)
  set(relutope_mpi_env MPIRUN=${MPIEXEC_EXECUTABLE})
  if(RELUTOPE_SANITIZE)
    # Open MPI's leaks at MPI_Finalize are suppressed by library (src/detail/sanitizer_options.cpp); the
    # suppressions need whole stacks (the fast unwinder stops in libc) and the plugins kept loaded (an
    # unloaded one leaves frames of no module).
    list(APPEND relutope_mpi_env OMPI_MCA_mca_base_component_disable_dlclose=1 ASAN_OPTIONS=fast_unwind_on_malloc=0)
  endif()
  foreach(case "2x32x32|tests/data/mpi_2x32x32.json" "4x12x12_lp|tests/data/mpi_4x12x12.json;--engine;lp"
               "one_big_task|tests/data/mpi_one_big_task.json" "long_run_3x24x24x24|${relutope_long_run}")
    string(REPLACE "|" ";" parts "${case}")
    list(POP_FRONT parts name)
    add_test(NAME cli.mpi.${name}_np_1_2_3_same_as_one_process
             COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/mpi/same_as_one_process.sh $<TARGET_FILE:relutope_cli>
                     ${CMAKE_CURRENT_BINARY_DIR}/mpi/${name} ${parts}
             WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
    set_tests_properties(cli.mpi.${name}_np_1_2_3_same_as_one_process PROPERTIES
      PASS_REGULAR_EXPRESSION "np=1 same count and statistics: ok.*np=1 same JSON lines: ok.*np=2 same count and statistics: ok.*np=2 same JSON lines: ok.*np=3 same count and statistics: ok.*np=3 same JSON lines: ok"
      ENVIRONMENT "${relutope_mpi_env}" LABELS mpi TIMEOUT 300)
  endforeach()
  # 44,372 regions, 12 runs; and 12 runs of an exact subtree (over 300 s under the sanitizers on a loaded
  # machine): the two other networks run the same MPI code under the sanitizers.
  set_property(TEST cli.mpi.long_run_3x24x24x24_np_1_2_3_same_as_one_process cli.mpi.one_big_task_np_1_2_3_same_as_one_process
               APPEND PROPERTY LABELS release_only)
  # Stopping and resuming under mpirun: a checkpoint of 2 ranks resumes under 3 and without MPI; SIGTERM.
  foreach(how time export TERM)
    add_test(NAME cli.mpi.stop_${how}_then_resume
             COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/mpi/stop_and_resume.sh $<TARGET_FILE:relutope_cli>
                     ${CMAKE_CURRENT_BINARY_DIR}/mpi/stop_${how} ${how}
             WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
    set_tests_properties(cli.mpi.stop_${how}_then_resume PROPERTIES ENVIRONMENT "${relutope_mpi_env}"
                         LABELS "mpi;release_only" TIMEOUT 300)
  endforeach()
  set_tests_properties(cli.mpi.stop_time_then_resume PROPERTIES PASS_REGULAR_EXPRESSION
    "stopped: exit 5.*lower bound: ok.*resumed under 3 ranks: exit 0.*tasks resumed: ok.*resumed_3_ranks: same count and statistics as the uninterrupted run: ok.*resumed without mpirun: exit 0.*resumed_alone: same count and statistics as the uninterrupted run: ok")
  set_tests_properties(cli.mpi.stop_export_then_resume PROPERTIES PASS_REGULAR_EXPRESSION
    "stopped: exit 5.*lower bound: ok.*resumed under 3 ranks: exit 0.*same JSON lines as the uninterrupted run: ok")
  set_tests_properties(cli.mpi.stop_TERM_then_resume PROPERTIES PASS_REGULAR_EXPRESSION
    "SIGTERM to mpirun: mpirun exit 1.*mpirun: lower bound printed: ok.*mpirun: resumed to the exact count: ok.*SIGTERM to ranks: mpirun exit 5.*ranks: lower bound printed: ok.*ranks: resumed to the exact count: ok")
  # Only count and export are spread; an error on one rank ends the job with its message and code.
  relutope_cli_long_run(mpi.other_commands_and_errors "under mpirun only count and export spread their work.*exit=2.*rank [01]\\).*error: .*no_such_model.json.*exit=2" "
${MPIEXEC_EXECUTABLE} --oversubscribe --allow-run-as-root -np 2 \"$RELUTOPE\" stats tests/data/tiny_2d.json 2>&1
echo exit=$?
${MPIEXEC_EXECUTABLE} --oversubscribe --allow-run-as-root -np 2 \"$RELUTOPE\" count \"$WORK/no_such_model.json\" 2>&1
echo exit=$?
")
  set_property(TEST cli.mpi.other_commands_and_errors APPEND PROPERTY LABELS mpi)
endif()

# A checkpoint of another run, or a damaged one, is refused (exit 2), naming what differs.
relutope_cli_long_run(long_run.resume_refuses_another_run
  "model: checkpoint [0-9a-f]+, this run [0-9a-f]+.*exit=2.*tolerance: checkpoint 1e-09, this run 1e-08.*exit=2.*engine: checkpoint vertex, this run lp.*exit=2.*domain: checkpoint \\[-1,1\\]\\^2 #[0-9a-f]+, this run \\[-2,2\\]\\^2.*exit=2.*command: checkpoint count, this run export --jsonl.*exit=2" [[
"$RELUTOPE" count tests/data/tiny_2d.json --checkpoint "$WORK/c.ckpt" > /dev/null
"$RELUTOPE" count tests/data/dead_neuron.json --resume "$WORK/c.ckpt"
echo exit=$?
"$RELUTOPE" count tests/data/tiny_2d.json --resume "$WORK/c.ckpt" --tolerance 1e-8
echo exit=$?
"$RELUTOPE" count tests/data/tiny_2d.json --resume "$WORK/c.ckpt" --engine lp
echo exit=$?
"$RELUTOPE" count tests/data/tiny_2d.json --resume "$WORK/c.ckpt" --box -2:2
echo exit=$?
"$RELUTOPE" export tests/data/tiny_2d.json --resume "$WORK/c.ckpt" --jsonl "$WORK/r.jsonl"
echo exit=$?
]])
relutope_cli_long_run(long_run.resume_refuses_a_damaged_checkpoint
  "c.ckpt: not a usable checkpoint: it is truncated.*exit=2.*c.ckpt: not a usable checkpoint: it is truncated or corrupted: the checksum.*exit=2" [[
"$RELUTOPE" count tests/data/tiny_2d.json --checkpoint "$WORK/whole.ckpt" > /dev/null
head -c 60 "$WORK/whole.ckpt" > "$WORK/c.ckpt"
"$RELUTOPE" count tests/data/tiny_2d.json --resume "$WORK/c.ckpt"
echo exit=$?
sed 's/"num_tasks":\([0-9]\)/"num_tasks":9\1/' "$WORK/whole.ckpt" > "$WORK/c.ckpt"
"$RELUTOPE" count tests/data/tiny_2d.json --resume "$WORK/c.ckpt"
echo exit=$?
]])
relutope_cli_long_run(long_run.export_resume_needs_its_jsonl_file
  "r.jsonl: has 0 bytes, but the checkpoint .*r.ckpt counts [0-9]+ written to it: not the file of that run.*exit=2" [[
"$RELUTOPE" export tests/data/long_run_3x24x24x24.json --fields id,pattern --jsonl "$WORK/r.jsonl" --max-regions 2000 --checkpoint "$WORK/r.ckpt" -q
: > "$WORK/r.jsonl"
"$RELUTOPE" export tests/data/long_run_3x24x24x24.json --fields id,pattern --jsonl "$WORK/r.jsonl" --resume "$WORK/r.ckpt"
echo exit=$?
]])
relutope_cli_expect(long_run.export_checkpoint_needs_a_jsonl_file 2
                    "--checkpoint: export saves and resumes JSON lines written to a file \\(--jsonl FILE\\), without pictures or meshes"
                    export ${relutope_cli_data}/tiny_2d.json --svg x.svg --checkpoint x.ckpt)
relutope_cli_expect(long_run.checkpoint_in_a_missing_folder 2 "checkpoint: cannot write no/such/folder/c.ckpt.tmp \\(No such file or directory\\)"
                    count ${relutope_cli_data}/tiny_2d.json --checkpoint no/such/folder/c.ckpt)
relutope_cli_expect(long_run.resume_of_a_missing_checkpoint 2 "no/such.ckpt: cannot open the checkpoint"
                    count ${relutope_cli_data}/tiny_2d.json --resume no/such.ckpt)

# ------------------------------------------------------------------------------- issue 12: estimates
# issue8_2x8x8x1.json has 63 regions in [-1,1]^2: 1000 strata are more than its search tree has, so the
# top walk reaches every leaf and the estimate is the count. With 50 probes (25 strata) it estimates.
# (The library tests check the estimator's convergence; these check the command.) Tests that expect a
# number of strata give --time-budget 0: under load (sanitizers, parallel tests) a sixteenth of the
# default 10 s budget can run out during the top walk and leave fewer strata.
relutope_cli_test(estimate.small_tree_is_exact "^63 regions exactly \\(the search tree is small: it was walked whole\\).*probes +none were needed.*bound +<= 1,073"
                  estimate ${relutope_cli_data}/issue8_2x8x8x1.json --probes 2000 --seed 7 --threads 1)
relutope_cli_test(estimate.text "^about [0-9,.e+]+ regions \\(95% interval [0-9,.e+]+ to [0-9,.e+]+\\).*probes +2000 in 1000 subtrees \\(seed 7\\).*search +about [0-9,.e+]+ tree nodes \\(engine vertex\\).*time +count would take about .* with 1 thread"
                  estimate ${relutope_long_run} --probes 2000 --seed 7 --threads 1 --time-budget 0)
relutope_cli_test(estimate.plain_knuth "probes +300 in 1 subtree \\(seed 0\\)"
                  estimate ${relutope_long_run} --probes 300 --strata 1)
relutope_cli_expect(estimate.too_many_strata 2 "--strata: expected 0 \\(automatic\\) or a number from 1 to --probes / 2 = 150, got 151"
                    estimate ${relutope_long_run} --probes 300 --strata 151)
relutope_cli_test(estimate.json [[^{"model":"tests/data/issue8_2x8x8x1.json","regions":[0-9.e+]+,"low":[0-9.e+]+,"high":[0-9.e+]+,"confidence":0.95,"std_error":[0-9.e+]+,"probes":50,"strata":25,"seed":0,"tree_nodes":.*"engine":"lp"]]
                  estimate ${relutope_cli_data}/issue8_2x8x8x1.json --probes 50 --engine lp --json --time-budget 0)
relutope_cli_test(estimate.far_above_bound "bound +<= 12,568,078,125 \\(montufar2017_upper, the tightest upper bound\\): far above the estimate"
                  estimate ${relutope_long_run} --probes 200)
relutope_cli_expect(estimate.one_probe 2 "--probes: expected a number from 2 to 100000000, got 1"
                    estimate ${relutope_cli_data}/issue8_2x8x8x1.json --probes 1)
# The library's checks (check_estimate_options) with the options' names, before the model is read.
relutope_cli_expect(estimate.negative_time_budget_before_the_model 2 "--time-budget: expected a number of seconds >= 0 \\(0 = none\\), got -1"
                    estimate ${relutope_cli_data}/no_such_model.json --time-budget -1)
relutope_cli_expect(estimate.segment_engine 2 "--engine segment: the segment walk has no search tree to probe"
                    estimate ${relutope_cli_data}/issue8_2x8x8x1.json --engine segment)
relutope_cli_expect(estimate.needs_a_model 1 "missing MODEL" estimate --probes 10)
# count looks ahead (at most 300 probes or 0.2 s) and warns on stderr when the run will take more than
# a minute: long_estimate_10x40x40.json (tests/data/make_estimate_models.py) would take days. --quiet
# hides the warning (and skips the look-ahead); small networks (bound below 10^4) skip it too.
relutope_cli_expect(estimate.count_warns_of_a_long_run 5
                    "^relutope count: this count may take long: about [0-9.e+,]+ regions \\(95% interval .* to .*\\), about [0-9.e+]+ (min|h|days|years) with 1 thread \\(estimated from [0-9]+ random probes.*--time-limit stops it after 0.5 s.*--quiet hides this\\).*at least [0-9,]+ regions \\(stopped: time limit\\)"
                    count tests/data/long_estimate_10x40x40.json --time-limit 0.5 --threads 1)
relutope_cli_script(estimate.count_quiet_and_small_runs_do_not_warn "^warnings=0 exit=5 warnings=0 exit=0\n$" [[
quiet=$("$RELUTOPE" count tests/data/long_estimate_10x40x40.json --time-limit 0.3 --quiet 2>&1)
code=$?
printf 'warnings=%s exit=%s ' "$(echo "$quiet" | grep -c 'may take long')" $code
small=$("$RELUTOPE" count tests/data/long_run_3x24x24x24.json 2>&1)
code=$?
printf 'warnings=%s exit=%s\n' "$(echo "$small" | grep -c 'may take long')" $code
]])
