# Outcome test of examples/order_view: first run places and changes Bob's
# order; the view is deleted while the program is down; the second run
# rebuilds it from the event store and shows the same order.
file(REMOVE_RECURSE ${DATA})
function(run_program out)
  execute_process(COMMAND ${PROGRAM} ${DATA} RESULT_VARIABLE rc OUTPUT_VARIABLE o ERROR_VARIABLE e)
  message(STATUS "${o}${e}")
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "order_view exited with ${rc}")
  endif()
  set(${out} "${o}" PARENT_SCOPE)
endfunction()
function(expect text pattern)
  if(NOT text MATCHES "${pattern}")
    message(FATAL_ERROR "expected output matching '${pattern}'")
  endif()
endfunction()

run_program(first)
expect("${first}" "Bob orders 5 x coffee")
expect("${first}" "OrderView order-bob-1: Bob, 5 x coffee")
expect("${first}" "Bob changes the quantity to 6")
expect("${first}" "OrderView order-bob-1: Bob, 6 x coffee")

file(REMOVE_RECURSE ${DATA}/views)  # deleted while the program is down
run_program(second)
expect("${second}" "rebuilding it from the event store")
expect("${second}" "OrderView rebuilt: 2 events applied")
expect("${second}" "OrderView order-bob-1: Bob, 6 x coffee")
if(second MATCHES "Bob orders")
  message(FATAL_ERROR "the second run must not place the order again")
endif()
